// What goes out and what comes back: the Transport interface that `cloud-api` and `sandbox` implement,
// the OutboundMessage shapes (text, template, interactive buttons / list, media, mark-as-read) as one
// zod schema, and SendResult. Limits are Meta's, so a bad message fails here, not after a round trip.
import { z } from 'zod';
import { AppError } from '../../lib/app-error.js';
import type { ErrorKind } from '../error-codes.js';

const id = z.string().min(1).max(256);

/** A customer: by phone number (`wa_id`) or, since 2026, by business-scoped user id (SPEC §3). */
export const recipientSchema = z.union([
  z.strictObject({ wa_id: z.string().regex(/^\d{6,20}$/, 'must be the digits of a phone number') }),
  z.strictObject({ user_id: z.string().min(1).max(128) }),
]);

export const templateSchema = z.strictObject({
  name: z.string().min(1).max(512),
  language: z.string().min(2).max(15),
  /** Graph template components as Meta documents them (header/body/button parameters). */
  components: z.array(z.record(z.string(), z.unknown())).max(20).optional(),
});

const mediaRef = z.union([
  z.strictObject({ id: z.string().min(1).max(256) }),
  z.strictObject({ link: z.url({ protocol: /^https?$/ }) }),
]);

export const contentSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('text'),
    text: z.string().min(1).max(4096),
    preview_url: z.boolean().optional(),
  }),
  z.strictObject({ type: z.literal('template'), template: templateSchema }),
  z.strictObject({
    type: z.literal('buttons'),
    header: z.string().min(1).max(60).optional(),
    body: z.string().min(1).max(1024),
    footer: z.string().min(1).max(60).optional(),
    buttons: z
      .array(z.strictObject({ id, title: z.string().min(1).max(20) }))
      .min(1)
      .max(3)
      // Meta refuses a message whose buttons share an id or a title.
      .refine((bs) => new Set(bs.map((b) => b.id)).size === bs.length, {
        message: 'button ids must be unique',
      })
      .refine((bs) => new Set(bs.map((b) => b.title)).size === bs.length, {
        message: 'button titles must be unique',
      }),
  }),
  z
    .strictObject({
      type: z.literal('list'),
      header: z.string().min(1).max(60).optional(),
      body: z.string().min(1).max(4096),
      footer: z.string().min(1).max(60).optional(),
      /** The label of the button that opens the list. */
      button: z.string().min(1).max(20),
      sections: z
        .array(
          z.strictObject({
            title: z.string().min(1).max(24).optional(),
            rows: z
              .array(
                z.strictObject({
                  id: z.string().min(1).max(200),
                  title: z.string().min(1).max(24),
                  description: z.string().min(1).max(72).optional(),
                }),
              )
              .min(1),
          }),
        )
        .min(1)
        .max(10),
    })
    .refine((l) => l.sections.reduce((n, s) => n + s.rows.length, 0) <= 10, {
      message: 'a list holds at most 10 rows across all sections',
      path: ['sections'],
    })
    .refine(
      (l) => {
        const ids = l.sections.flatMap((s) => s.rows.map((r) => r.id));
        return new Set(ids).size === ids.length;
      },
      { message: 'row ids must be unique across the list', path: ['sections'] },
    )
    .refine((l) => l.sections.length === 1 || l.sections.every((s) => s.title !== undefined), {
      message: 'every section needs a title when there is more than one',
      path: ['sections'],
    }),
  z
    .strictObject({
      type: z.literal('media'),
      media_type: z.enum(['image', 'audio', 'video', 'document', 'sticker']),
      media: mediaRef,
      caption: z.string().min(1).max(1024).optional(),
      filename: z.string().min(1).max(240).optional(),
    })
    .refine((m) => m.caption === undefined || !['audio', 'sticker'].includes(m.media_type), {
      message: 'audio and sticker messages take no caption',
      path: ['caption'],
    })
    .refine((m) => m.filename === undefined || m.media_type === 'document', {
      message: 'only documents take a filename',
      path: ['filename'],
    }),
]);

const phoneNumberId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a phone number id');

export const outboundMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('message'),
    phone_number_id: phoneNumberId,
    to: recipientSchema,
    content: contentSchema,
    /** The inbound wamid this replies to (Graph `context.message_id`). */
    reply_to: z.string().min(1).max(256).optional(),
    /** Echoed back by Meta on every status of this message; we use it to correlate. */
    biz_opaque_callback_data: z.string().min(1).max(512).optional(),
  }),
  z.strictObject({
    kind: z.literal('mark_as_read'),
    phone_number_id: phoneNumberId,
    /** The inbound wamid to mark as read. */
    message_id: z.string().min(1).max(256),
    typing_indicator: z.boolean().optional(),
  }),
]);

export type Recipient = z.infer<typeof recipientSchema>;
export type TemplateMessage = z.infer<typeof templateSchema>;
export type OutboundContent = z.infer<typeof contentSchema>;
export type OutboundMessage = z.infer<typeof outboundMessageSchema>;

function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(message)' : path.map(String).join('.');
}

/** Validate an outbound message; AppError `invalid_outbound_message` names every bad field. */
export function parseOutboundMessage(input: unknown): OutboundMessage {
  const parsed = outboundMessageSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw new AppError(
    'invalid_outbound_message',
    `outbound message is invalid: ${parsed.error.issues.map((i) => `${issuePath(i.path)}: ${i.message}`).join('; ')}`,
    parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })),
  );
}

/** The key pacing uses for a recipient (one customer, whichever id we have). */
export function recipientKey(to: Recipient): string {
  return 'wa_id' in to ? to.wa_id : `user:${to.user_id}`;
}

export type SendResult = SendAccepted | SendFailed;

export interface SendAccepted {
  outcome: 'accepted';
  /** The id Meta gave the message; null for mark-as-read, which creates no message. */
  wamid: string | null;
  /** Graph's `message_status` when present (`accepted`, `held_for_quality_assessment`, ...). */
  messageStatus: string | null;
}

export interface SendFailed {
  outcome: 'failed';
  kind: ErrorKind;
  /** Graph error code; null for network errors and timeouts. */
  code: number | null;
  /** Short human title (table title, else Graph's message; never contains the token). */
  title: string;
  /** Graph `error_data.details`, scrubbed and shortened; null when absent. */
  details: string | null;
  /** HTTP status of the answer; null when there was none (network error, timeout). */
  httpStatus: number | null;
  /** 131047: the 24 h window is closed; a follow-up with a template should be re-planned as one. */
  windowClosed: boolean;
}

export interface Transport {
  readonly name: 'cloud-api' | 'sandbox';
  /** Never throws for a send problem: every failure comes back as a SendFailed. */
  send(message: OutboundMessage): Promise<SendResult>;
}
