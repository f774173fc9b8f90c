// OutboundMessage → the JSON body of POST /{version}/{phone_number_id}/messages, exactly as Meta's
// "Send messages" reference spells it. Pure; the outbox stores this body as "the message as we sent it".
import type { OutboundContent, OutboundMessage, Recipient } from './transport.js';

export type GraphBody = Record<string, unknown>;

export function graphRequestBody(message: OutboundMessage): GraphBody {
  if (message.kind === 'mark_as_read') {
    const body: GraphBody = { messaging_product: 'whatsapp', status: 'read', message_id: message.message_id };
    if (message.typing_indicator) body.typing_indicator = { type: 'text' };
    return body;
  }
  const body: GraphBody = {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    ...recipientFields(message.to),
  };
  if (message.reply_to) body.context = { message_id: message.reply_to };
  if (message.biz_opaque_callback_data) body.biz_opaque_callback_data = message.biz_opaque_callback_data;
  return { ...body, ...contentFields(message.content) };
}

// Meta, "Business-scoped user IDs": a customer known only by BSUID is addressed with `recipient`
// instead of `to` (https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids).
function recipientFields(to: Recipient): GraphBody {
  return 'wa_id' in to ? { to: to.wa_id } : { recipient: to.user_id };
}

function contentFields(content: OutboundContent): GraphBody {
  switch (content.type) {
    case 'text': {
      const text: GraphBody = { body: content.text };
      if (content.preview_url !== undefined) text.preview_url = content.preview_url;
      return { type: 'text', text };
    }
    case 'template': {
      const template: GraphBody = {
        name: content.template.name,
        language: { code: content.template.language },
      };
      if (content.template.components?.length) template.components = content.template.components;
      return { type: 'template', template };
    }
    case 'buttons':
      return {
        type: 'interactive',
        interactive: withFrame(content, {
          type: 'button',
          action: {
            buttons: content.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })),
          },
        }),
      };
    case 'list':
      return {
        type: 'interactive',
        interactive: withFrame(content, {
          type: 'list',
          action: {
            button: content.button,
            sections: content.sections.map((s) => ({
              ...(s.title !== undefined ? { title: s.title } : {}),
              rows: s.rows.map((r) => ({
                id: r.id,
                title: r.title,
                ...(r.description !== undefined ? { description: r.description } : {}),
              })),
            })),
          },
        }),
      };
    case 'media': {
      const media: GraphBody = { ...content.media };
      if (content.caption !== undefined) media.caption = content.caption;
      if (content.filename !== undefined) media.filename = content.filename;
      return { type: content.media_type, [content.media_type]: media };
    }
  }
}

function withFrame(
  content: { header?: string | undefined; body: string; footer?: string | undefined },
  interactive: GraphBody,
): GraphBody {
  const out: GraphBody = { type: interactive.type };
  if (content.header !== undefined) out.header = { type: 'text', text: content.header };
  out.body = { text: content.body };
  if (content.footer !== undefined) out.footer = { text: content.footer };
  out.action = interactive.action;
  return out;
}
