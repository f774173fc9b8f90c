// The `cloud-api` transport: POST {base}/{version}/{phone_number_id}/messages with the bearer token,
// Node's own fetch, a hard timeout. Every outcome becomes a SendResult classified by error-codes.ts;
// nothing here throws for a send problem, and the token never reaches a result, an error or a log.
import { classify, isWindowClosed, lookupErrorCode } from '../error-codes.js';
import { graphRequestBody } from './graph-body.js';
import type { OutboundMessage, SendFailed, SendResult, Transport } from './transport.js';

export interface CloudApiOptions {
  /** e.g. https://graph.facebook.com (tests point it at a local fake). */
  baseUrl: string;
  /** e.g. v24.0 */
  version: string;
  accessToken: string;
  /** Whole request, answer body included. */
  timeoutMs: number;
}

/** Longest Graph message or details text kept in a result. */
const MAX_TEXT = 300;

export function createCloudApiTransport(options: CloudApiOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, '');
  const scrub = scrubber(options.accessToken);

  return {
    name: 'cloud-api',
    async send(message: OutboundMessage): Promise<SendResult> {
      const url = `${base}/${options.version}/${encodeURIComponent(message.phone_number_id)}/messages`;
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.accessToken}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify(graphRequestBody(message)),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        text = await response.text();
      } catch (err) {
        // The request may or may not have reached Meta: retrying can duplicate a send. SPEC §5 accepts
        // that one window; the outbox keeps it as small as it can.
        return failure(null, null, describeNetworkError(err, options.timeoutMs), null);
      }
      return interpret(response.status, text, message, scrub);
    },
  };
}

function interpret(
  status: number,
  text: string,
  message: OutboundMessage,
  scrub: (s: string) => string,
): SendResult {
  const json = parseJson(text);
  if (status >= 200 && status < 300) {
    if (message.kind === 'mark_as_read') return { outcome: 'accepted', wamid: null, messageStatus: null };
    const first = firstMessage(json);
    if (first) return { outcome: 'accepted', wamid: first.id, messageStatus: first.status };
    // 2xx without a message id: Meta may have sent it, so a retry could duplicate. Fail permanently
    // and let the status webhooks (if any) tell the rest.
    return failure(
      null,
      status,
      'unexpected answer from the Cloud API (2xx without a message id)',
      null,
      'permanent',
    );
  }
  const error = graphError(json);
  if (!error) {
    return failure(null, status, `HTTP ${status} from the Cloud API`, shorten(scrub(text)) || null);
  }
  const title =
    lookupErrorCode(error.code)?.title ?? (shorten(scrub(error.message ?? '')) || `HTTP ${status}`);
  return failure(error.code, status, title, error.details ? shorten(scrub(error.details)) : null);
}

function failure(
  code: number | null,
  httpStatus: number | null,
  title: string,
  details: string | null,
  kind = classify(code, httpStatus),
): SendFailed {
  return { outcome: 'failed', kind, code, title, details, httpStatus, windowClosed: isWindowClosed(code) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function firstMessage(json: unknown): { id: string; status: string | null } | undefined {
  if (!isObject(json) || !Array.isArray(json.messages)) return undefined;
  const m: unknown = json.messages[0];
  if (!isObject(m) || typeof m.id !== 'string' || m.id.length === 0) return undefined;
  return { id: m.id, status: typeof m.message_status === 'string' ? m.message_status : null };
}

/** Graph's `{error: {code, message, error_subcode, error_data: {details}}}`. */
function graphError(json: unknown): { code: number | null; message?: string; details?: string } | undefined {
  if (!isObject(json) || !isObject(json.error)) return undefined;
  const e = json.error;
  const code = typeof e.code === 'number' ? e.code : typeof e.code === 'string' ? Number(e.code) : Number.NaN;
  const out: { code: number | null; message?: string; details?: string } = {
    code: Number.isInteger(code) ? code : null,
  };
  if (typeof e.message === 'string') out.message = e.message;
  if (isObject(e.error_data) && typeof e.error_data.details === 'string') out.details = e.error_data.details;
  return out;
}

function describeNetworkError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return `request timed out after ${timeoutMs} ms`;
  const code = e?.cause?.code ?? e?.cause?.name;
  // Only the cause's code: undici messages can carry request details we do not want in a result.
  return code ? `network error (${code})` : 'network error';
}

/**
 * Removes the token wherever it appears (Graph echoes a malformed token back in some 190 messages)
 * and anything shaped like a Meta access token.
 */
function scrubber(token: string): (s: string) => string {
  return (s) => {
    let out = token ? s.split(token).join('[redacted]') : s;
    out = out.replace(/EAA[A-Za-z0-9]{20,}/g, '[redacted]');
    return out;
  };
}

function shorten(s: string): string {
  const t = s.trim();
  return t.length > MAX_TEXT ? `${t.slice(0, MAX_TEXT)}…` : t;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
