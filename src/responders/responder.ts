// What a responder is (SPEC §4 auto-reply): given a conversation and its recent messages, produce a
// reply text or say why not. `rules` is built in; `openai-compatible` calls a chat-completions server
// and falls back to `rules` while that fails.
import type { Config } from '../config/schema.js';
import type { Route } from '../conversations/conversation.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import { createResponderHealth, type ResponderHealth } from './health.js';
import { createOpenAiResponder, type ResponderLogger } from './openai-compatible.js';
import { createRulesResponder } from './rules.js';

export interface ResponderMessage {
  direction: 'inbound' | 'outbound';
  /** Body, caption or button title; null for media without caption. */
  text: string | null;
  at: number;
}

export interface ResponderInput {
  conversation: {
    id: string;
    conversation_class: string;
    assigned_route: Route;
    contact_name?: string | null;
  };
  /** Oldest first; the newest customer message is what the reply answers. */
  recentMessages: ResponderMessage[];
  classification: { class: string; intent?: string };
}

export type ResponderSource = 'rules' | 'openai-compatible';

export type Reply =
  | { kind: 'text'; text: string; source: ResponderSource; rule_id?: string }
  | { kind: 'none'; reason: string };

export interface Responder {
  readonly kind: ResponderSource;
  reply(input: ResponderInput): Promise<Reply>;
}

/** WhatsApp's limit for a text message body. */
export const MAX_REPLY_CHARS = 4096;

export interface ResponderSetup {
  responder: Responder;
  /** Read by the runtime status: `failing` means `degraded`. */
  health: ResponderHealth;
}

/** The configured responder. Throws when `openai-compatible` lacks its base URL or model. */
export function createResponder(
  config: Config['responder'],
  deps: { clock: Clock; logger?: ResponderLogger },
): ResponderSetup {
  const health = createResponderHealth();
  const rules = createRulesResponder(config.rules);
  if (config.kind === 'rules') return { responder: rules, health };
  const { base_url, model } = config.openai;
  for (const [key, value] of [
    ['base_url', base_url],
    ['model', model],
  ] as const) {
    if (!value) {
      throw new AppError(
        'config_invalid',
        `responder.openai.${key} is required when responder.kind is "openai-compatible"`,
        [{ path: `responder.openai.${key}`, message: 'required' }],
      );
    }
  }
  const responder = createOpenAiResponder({
    config: config.openai,
    fallback: rules,
    health,
    clock: deps.clock,
    logger: deps.logger,
  });
  return { responder, health };
}
