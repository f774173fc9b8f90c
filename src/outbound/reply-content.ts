// What a reply says, from reply_conversation's context (SPEC §8, §12): exactly one of `text`,
// `template`, `media` ({type, link | media_id, caption?, filename?}) or `interactive` (reply buttons
// or a list), turned into outbound content and checked against Meta's limits by the outbound message
// schema (transports/transport.ts), with each problem named by its path in the request.
import { z } from 'zod';
import { AppError } from '../lib/app-error.js';
import { contentSchema, type OutboundContent, type TemplateMessage } from './transports/transport.js';

export const replyMediaSchema = z
  .strictObject({
    type: z.enum(['image', 'audio', 'video', 'document', 'sticker']),
    link: z
      .url({ protocol: /^https$/, error: 'must be an https URL' })
      .max(2000)
      .optional(),
    media_id: z.string().min(1).max(256).optional().describe('from POST .../runtime/media'),
    caption: z.string().min(1).max(1024).optional(),
    filename: z.string().min(1).max(240).optional(),
  })
  .refine((m) => (m.link === undefined) !== (m.media_id === undefined), {
    message: 'needs exactly one of link and media_id',
  });

const row = z.strictObject({
  id: z.string().min(1).max(200),
  title: z.string().min(1).max(24),
  description: z.string().min(1).max(72).optional(),
});

export const replyInteractiveSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('button'),
    header: z.string().min(1).max(60).optional(),
    body: z.string().min(1).max(1024),
    footer: z.string().min(1).max(60).optional(),
    buttons: z
      .array(z.strictObject({ id: z.string().min(1).max(256), title: z.string().min(1).max(20) }))
      .min(1)
      .max(3),
  }),
  z.strictObject({
    type: z.literal('list'),
    header: z.string().min(1).max(60).optional(),
    body: z.string().min(1).max(4096),
    footer: z.string().min(1).max(60).optional(),
    button: z.string().min(1).max(20).describe('the label of the button that opens the list'),
    sections: z
      .array(
        z.strictObject({ title: z.string().min(1).max(24).optional(), rows: z.array(row).min(1).max(10) }),
      )
      .min(1)
      .max(10),
  }),
]);

export type ReplyMedia = z.infer<typeof replyMediaSchema>;
export type ReplyInteractive = z.infer<typeof replyInteractiveSchema>;

export interface ReplyInput {
  text?: string;
  template?: TemplateMessage;
  media?: ReplyMedia;
  interactive?: ReplyInteractive;
}

export function replyContent(ctx: ReplyInput): OutboundContent {
  const given = (['text', 'template', 'media', 'interactive'] as const).filter((k) => ctx[k] !== undefined);
  if (given.length !== 1) {
    throw new AppError(
      'validation_failed',
      given.length === 0
        ? 'invalid body: reply_conversation needs context.text, context.template, context.media or context.interactive'
        : `invalid body: reply_conversation takes one of context.text, template, media, interactive; got ${given.join(', ')}`,
      [
        {
          path: `context.${given[1] ?? 'text'}`,
          message:
            given.length === 0
              ? 'is required (or template, media, interactive)'
              : 'only one kind of content per reply',
        },
      ],
    );
  }
  const [kind] = given;
  let content: unknown;
  if (kind === 'text') content = { type: 'text', text: ctx.text };
  else if (kind === 'template') content = { type: 'template', template: ctx.template };
  else if (kind === 'media') {
    const m = ctx.media as ReplyMedia;
    content = {
      type: 'media',
      media_type: m.type,
      media: m.media_id !== undefined ? { id: m.media_id } : { link: m.link },
      ...(m.caption !== undefined ? { caption: m.caption } : {}),
      ...(m.filename !== undefined ? { filename: m.filename } : {}),
    };
  } else {
    const i = ctx.interactive as ReplyInteractive;
    const { type, ...rest } = i;
    content = { ...rest, type: type === 'button' ? 'buttons' : 'list' };
  }
  const parsed = contentSchema.safeParse(content);
  if (parsed.success) return parsed.data;
  // Paths of the outbound content, told in the request's words.
  const details = parsed.error.issues.map((issue) => ({
    path: ['context', kind, ...issue.path.filter((p) => p !== 'media' || kind !== 'media').map(String)]
      .join('.')
      .replace('context.media.media_type', 'context.media.type'),
    message: issue.message,
  }));
  const first = details[0];
  throw new AppError('validation_failed', `invalid body: ${first?.path} ${first?.message}`, details);
}
