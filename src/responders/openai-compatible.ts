// The `openai-compatible` responder: POST {base_url}/chat/completions (Ollama, vLLM, llama.cpp,
// OpenAI itself) with a strict timeout and a bounded prompt. Any failure (network, timeout, HTTP
// error, a body that is not a chat completion) falls back to the `rules` responder and marks the
// health object failing until a call succeeds again. The API key goes into the Authorization header
// and nowhere else: not into errors, logs or replies.
import type { Config } from '../config/schema.js';
import type { Clock } from '../lib/clock.js';
import { buildChatMessages } from './chat-prompt.js';
import { MAX_REPLY_CHARS, type Reply, type Responder, type ResponderInput } from './contract.js';
import type { ResponderHealth } from './health.js';

/** The pino-compatible subset this module logs with. */
export interface ResponderLogger {
  warn(obj: Record<string, unknown>, msg?: string): void;
}

export interface OpenAiResponderOptions {
  config: Config['responder']['openai'];
  fallback: Responder;
  health: ResponderHealth;
  clock: Clock;
  logger?: ResponderLogger | undefined;
}

/** A chat completion is a few KiB; anything past this is not one. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

class ProviderError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** The endpoint URL without any user:password part, for messages. */
function endpoint(baseUrl: string): { url: URL; display: string } {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const url = new URL('chat/completions', base);
  const shown = new URL(url);
  shown.username = '';
  shown.password = '';
  return { url, display: shown.toString() };
}

async function readBounded(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new ProviderError('response_too_large', `response larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function contentOf(body: unknown): string {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) {
    throw new ProviderError('no_choices', 'response has no choices');
  }
  const content = (choices[0] as { message?: { content?: unknown } } | null)?.message?.content;
  if (typeof content !== 'string') {
    throw new ProviderError('no_content', 'choices[0].message.content is not a string');
  }
  const text = content.trim();
  if (text === '') throw new ProviderError('empty_content', 'choices[0].message.content is empty');
  return text.slice(0, MAX_REPLY_CHARS);
}

function describe(err: unknown, timeoutMs: number): ProviderError {
  if (err instanceof ProviderError) return err;
  const name = (err as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ProviderError('timeout', `no answer within ${timeoutMs} ms`);
  }
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error | null)?.message ?? String(err);
  return new ProviderError('network', `request failed: ${detail}`);
}

export function createOpenAiResponder(options: OpenAiResponderOptions): Responder {
  const { config, fallback, health, clock, logger } = options;
  const { url, display } = endpoint(config.base_url ?? '');
  const apiKey = config.api_key;
  const scrub = (s: string): string => (apiKey ? s.split(apiKey).join('[redacted]') : s);

  async function complete(input: ResponderInput): Promise<string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    const body = JSON.stringify({
      model: config.model,
      messages: buildChatMessages(input, config),
      stream: false,
    });
    // One signal covers connecting, waiting and reading the body.
    const signal = AbortSignal.timeout(config.timeout);
    const res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'error' });
    const raw = await readBounded(res);
    if (!res.ok) throw new ProviderError(`http_${res.status}`, `HTTP ${res.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new ProviderError('invalid_json', 'response is not JSON');
    }
    return contentOf(parsed);
  }

  return {
    kind: 'openai-compatible',
    async reply(input): Promise<Reply> {
      try {
        const text = await complete(input);
        health.recordSuccess(clock.now());
        return { kind: 'text', text, source: 'openai-compatible' };
      } catch (err) {
        const problem = describe(err, config.timeout);
        const message = scrub(`openai-compatible responder at ${display}: ${problem.message}`);
        health.recordFailure(message, clock.now());
        logger?.warn(
          {
            event: 'responder.failed',
            kind: problem.kind,
            conversation_id: input.conversation.id,
            error: message,
          },
          'AI responder failed; falling back to rules',
        );
        return fallback.reply(input);
      }
    },
  };
}
