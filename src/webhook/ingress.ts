// The webhook front door (SPEC §3): the GET verification handshake, and POST deliveries checked
// against X-Hub-Signature-256 over the raw bytes, then committed to the inbox before the answer.
// Nothing is parsed into effects here; the inbox processor does that afterwards.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../lib/app-error.js';
import type { Clock } from '../lib/clock.js';
import type { IdSource } from '../lib/ids.js';
import type { Metrics } from '../observability/metrics.js';
import type { InboxState } from '../store/tables.js';
import type { StoreWritability } from '../store/writability.js';
import type { InboxWriter } from './inbox-writer.js';
import { delivery } from './payload.js';
import { checkSignature } from './signature.js';

export interface IngressDeps {
  writer: InboxWriter;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  metrics: Metrics;
  secrets: { appSecret: string; verifyToken: string };
  /** While the database must not be written, deliveries get 503 instead of a 200 we could not keep. */
  writability?: Pick<StoreWritability, 'reason' | 'noteWriteError'>;
}

export interface ReceiveResult {
  inbox_id: string;
  state: Extract<InboxState, 'pending' | 'rejected'>;
}

export interface Ingress {
  /** The challenge to echo for a matching handshake; throws 403 otherwise. */
  handshake(query: Record<string, string | undefined>): string;
  /** Verifies and stores a delivery; throws 401 (nothing stored) or 400 (stored as rejected). */
  receive(body: Uint8Array, signatureHeader: string | undefined): Promise<ReceiveResult>;
  /** Counts a body refused for its size before it was read. */
  refusedTooLarge(): void;
  /**
   * For the webhook fast path (http/webhook-fast-path.ts): true when receive() would store this
   * delivery as pending (valid signature, a whatsapp_business_account JSON object), decided without
   * storing, counting or logging anything, so that any other delivery can be handed to receive().
   */
  acceptable(body: Uint8Array, signatureHeader: string | undefined): boolean;
  /** Stores a delivery acceptable() passed, as receive() would (503 while the store is not writable). */
  storeAccepted(body: Uint8Array): Promise<ReceiveResult>;
}

export function createIngress(deps: IngressDeps): Ingress {
  const log = deps.logger.child({ module: 'ingress' });
  const received = deps.metrics.counter(
    'nwa_webhooks_received_total',
    'Signed webhook deliveries stored in the inbox, by state (pending = accepted, rejected = 400)',
    ['state'],
  );
  const refused = deps.metrics.counter(
    'nwa_webhooks_refused_total',
    'Webhook deliveries refused without storing them, by reason',
    ['reason'],
  );

  function refuse(reason: string, message: string): never {
    refused.inc({ reason });
    log.warn({ event: 'webhook.refused', reason }, `webhook refused: ${message}`);
    throw new AppError('invalid_signature', message);
  }

  function notWritable(reason: string): AppError {
    refused.inc({ reason: 'store_not_writable' });
    log.warn({ event: 'webhook.refused', reason: 'store_not_writable' }, `webhook refused: ${reason}`);
    return new AppError(
      'store_not_writable',
      'deliveries cannot be stored right now (the database is not writable); retry later',
      undefined,
      { 'Retry-After': '5' },
    );
  }

  async function store(body: Uint8Array, state: ReceiveResult['state'], error: string | null) {
    const unwritable = deps.writability?.reason();
    if (unwritable) throw notWritable(unwritable);
    const now = deps.clock.now();
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    const id = deps.ids.next();
    await appendOrCount({
      id,
      received_at: now,
      body: text,
      delivery_hash: createHash('sha256').update(body).digest('hex'),
      state,
      attempts: 0,
      next_attempt_at: now,
      last_error: error,
      processed_at: state === 'rejected' ? now : null,
    });
    received.inc({ state });
    return id;
  }

  async function appendOrCount(row: Parameters<InboxWriter['append']>[0]): Promise<void> {
    try {
      await deps.writer.append(row);
    } catch (err) {
      if (deps.writability?.noteWriteError(err)) throw notWritable((err as Error).message);
      if (err instanceof AppError && err.code === 'overloaded') {
        refused.inc({ reason: 'overloaded' });
        log.warn({ event: 'webhook.refused', reason: 'overloaded' }, 'webhook refused: inbox writer is full');
      }
      throw err;
    }
  }

  async function storeAccepted(body: Uint8Array): Promise<ReceiveResult> {
    const id = await store(body, 'pending', null);
    if (log.isLevelEnabled('debug')) {
      log.debug({ event: 'webhook.accepted', inbox_id: id, bytes: body.byteLength }, 'delivery stored');
    }
    return { inbox_id: id, state: 'pending' };
  }

  return {
    handshake(query) {
      const mode = query['hub.mode'];
      const token = query['hub.verify_token'] ?? '';
      const challenge = query['hub.challenge'];
      if (mode !== 'subscribe' || challenge === undefined || !sameSecret(token, deps.secrets.verifyToken)) {
        log.warn({ event: 'webhook.handshake_refused', mode }, 'webhook verification handshake refused');
        throw new AppError(
          'forbidden',
          'verification refused: hub.mode must be "subscribe" and hub.verify_token must match the configured verify token',
        );
      }
      log.info({ event: 'webhook.handshake' }, 'webhook verification handshake accepted');
      return challenge;
    },

    async receive(body, signatureHeader) {
      const check = checkSignature(body, signatureHeader, deps.secrets.appSecret);
      if (check === 'missing') refuse('missing_signature', 'the X-Hub-Signature-256 header is missing');
      if (check === 'malformed') {
        refuse('malformed_signature', 'X-Hub-Signature-256 must be "sha256=" followed by 64 hex digits');
      }
      if (check === 'mismatch') {
        refuse('bad_signature', 'X-Hub-Signature-256 does not match the body signed with the app secret');
      }

      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
      } catch (err) {
        const id = await store(body, 'rejected', 'not JSON');
        log.warn(
          { event: 'webhook.rejected', inbox_id: id, reason: 'not_json' },
          'signed webhook is not JSON',
        );
        throw new AppError('invalid_json', `the webhook body is not valid JSON: ${(err as Error).message}`, {
          inbox_id: id,
        });
      }
      if (!delivery.safeParse(json).success) {
        const id = await store(body, 'rejected', 'not a whatsapp_business_account delivery');
        log.warn(
          { event: 'webhook.rejected', inbox_id: id, reason: 'wrong_object' },
          'signed webhook is not a whatsapp_business_account delivery',
        );
        throw new AppError(
          'invalid_webhook',
          'the webhook is not a WhatsApp Business Account delivery: "object" must be "whatsapp_business_account" with an "entry" array',
          { inbox_id: id },
        );
      }
      return storeAccepted(body);
    },

    acceptable(body, signatureHeader) {
      if (checkSignature(body, signatureHeader, deps.secrets.appSecret) !== 'valid') return false;
      try {
        const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
        return delivery.safeParse(JSON.parse(text)).success;
      } catch {
        return false;
      }
    },

    storeAccepted,

    refusedTooLarge() {
      refused.inc({ reason: 'too_large' });
      log.warn({ event: 'webhook.refused', reason: 'too_large' }, 'webhook refused: body over the limit');
    },
  };
}

/** Constant-time comparison of two strings of possibly different lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
