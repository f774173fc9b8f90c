// The configured responder (SPEC §4 auto-reply): `rules` is built in; `openai-compatible` calls a
// chat-completions server and falls back to `rules` while that fails. What a responder is: contract.ts.
import type { Config } from '../config/schema.js';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { Responder } from './contract.js';
import { createResponderHealth, type ResponderHealth } from './health.js';
import { createOpenAiResponder, type ResponderLogger } from './openai-compatible.js';
import { createRulesResponder } from './rules.js';

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
