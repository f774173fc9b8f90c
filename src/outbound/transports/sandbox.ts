// The `sandbox` transport (SPEC §5): accepts every valid message, gives it a `wamid.sandbox.<ulid>`,
// and afterwards emits the `sent` and `delivered` statuses Meta would send, shaped like Meta's status
// objects, so the caller feeds them through the same status processing as real webhooks. Used when
// no access token is configured, by `simulate`, and in tests.
import type { Clock } from '../../lib/clock.js';
import type { IdSource } from '../../lib/ids.js';
import { graphRequestBody } from './graph-body.js';
import type { OutboundMessage, SendResult, Transport } from './transport.js';

/** A status object as it appears in `entry[].changes[].value.statuses[]` of a Meta webhook. */
export interface SyntheticStatus {
  id: string;
  status: 'sent' | 'delivered';
  /** Unix seconds as a string, as Meta sends it. */
  timestamp: string;
  recipient_id?: string;
  recipient_user_id?: string;
  biz_opaque_callback_data?: string;
}

export interface SyntheticStatusEvent {
  phone_number_id: string;
  status: SyntheticStatus;
}

export interface SandboxRecord {
  wamid: string | null;
  message: OutboundMessage;
  /** The Graph body a real send would have posted. */
  body: Record<string, unknown>;
  at: number;
}

export interface SandboxOptions {
  clock: Clock;
  ids: IdSource;
  /** Receives `sent` then `delivered` for every accepted message, after send() has resolved. */
  onStatus?: (event: SyntheticStatusEvent) => void | Promise<void>;
  /** Reports a throwing onStatus (it must not take the transport down). */
  onStatusError?: (error: unknown) => void;
  /** How many recent sends to keep in `sent` for inspection (memory stays bounded). */
  keep?: number;
}

export interface SandboxTransport extends Transport {
  readonly name: 'sandbox';
  /** The most recent sends, oldest first. */
  readonly sent: readonly SandboxRecord[];
}

export function createSandboxTransport(options: SandboxOptions): SandboxTransport {
  const keep = options.keep ?? 1000;
  const sent: SandboxRecord[] = [];

  const emit = (event: SyntheticStatusEvent): Promise<void> =>
    Promise.resolve()
      .then(() => options.onStatus?.(event))
      .catch((err: unknown) => options.onStatusError?.(err));

  return {
    name: 'sandbox',
    sent,
    async send(message: OutboundMessage): Promise<SendResult> {
      const at = options.clock.now();
      if (message.kind === 'mark_as_read') {
        remember(sent, keep, { wamid: null, message, body: graphRequestBody(message), at });
        return { outcome: 'accepted', wamid: null, messageStatus: null };
      }
      const wamid = `wamid.sandbox.${options.ids.next()}`;
      remember(sent, keep, { wamid, message, body: graphRequestBody(message), at });
      if (options.onStatus) {
        const base = {
          id: wamid,
          timestamp: String(Math.floor(at / 1000)),
          ...('wa_id' in message.to
            ? { recipient_id: message.to.wa_id }
            : { recipient_user_id: message.to.user_id }),
          ...(message.biz_opaque_callback_data
            ? { biz_opaque_callback_data: message.biz_opaque_callback_data }
            : {}),
        };
        const phone = message.phone_number_id;
        // After the caller has seen the result, as with Meta (though Meta does not promise even that).
        setImmediate(() => {
          void emit({ phone_number_id: phone, status: { ...base, status: 'sent' } }).then(() =>
            emit({ phone_number_id: phone, status: { ...base, status: 'delivered' } }),
          );
        });
      }
      return { outcome: 'accepted', wamid, messageStatus: 'accepted' };
    },
  };
}

/**
 * A synthetic status wrapped in a whole webhook delivery, for callers that process statuses through
 * the inbox like any other delivery.
 */
export function toWebhookPayload(event: SyntheticStatusEvent, wabaId = 'sandbox'): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: event.phone_number_id,
                phone_number_id: event.phone_number_id,
              },
              statuses: [event.status],
            },
          },
        ],
      },
    ],
  };
}

function remember(list: SandboxRecord[], keep: number, record: SandboxRecord): void {
  list.push(record);
  if (list.length > keep) list.splice(0, list.length - keep);
}
