// The event types of SPEC §11: the public ones (delivered to subscribers, streamed, documented with one
// example `data` each in the OpenAPI document) and the internal facts only the in-process projections
// read (insight rollups). Adding a type: one entry here, then recordEvent() it where the change happens.

export const PUBLIC_EVENT_TYPES = [
  'message.received',
  'message.sent',
  'message.status',
  'message.failed',
  'conversation.opened',
  'conversation.state_changed',
  'conversation.routed',
  'conversation.escalated',
  'conversation.closed',
  'draft.created',
  'draft.resolved',
  'follow_up.sent',
  'follow_up.skipped',
  'campaign.state_changed',
  'campaign.completed',
  'campaign.paused',
  'contact.opted_out',
  'contact.opted_in',
  'contact.identity_changed',
  'media.stored',
  'template.status_changed',
  'runtime.status_changed',
] as const;

/** Facts for the rollups (insights/insight-rollups.ts); kept in the log, never sent out. */
export const INTERNAL_EVENT_TYPES = [
  'insight.conversation_counted',
  'insight.silence_planned',
  'insight.silences_ended',
  'insight.silence_covered',
  'insight.campaign_sent',
  'insight.campaign_replied',
] as const;

export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];
export type InternalEventType = (typeof INTERNAL_EVENT_TYPES)[number];
export type EventType = PublicEventType | InternalEventType;

const PUBLIC = new Set<string>(PUBLIC_EVENT_TYPES);
const INTERNAL = new Set<string>(INTERNAL_EVENT_TYPES);

export function isPublicEventType(type: string): type is PublicEventType {
  return PUBLIC.has(type);
}

export function isInternalEventType(type: string): type is InternalEventType {
  return INTERNAL.has(type);
}

/** The envelope every subscriber and stream receives (SPEC §11). */
export interface EventEnvelope {
  id: string;
  type: string;
  occurred_at: string;
  agent_uuid: string | null;
  conversation_id: string | null;
  data: Record<string, unknown>;
}

const CONV = '01JF8Z3J6Y2W9V4T7R5Q1M0N8K';

/** One example `data` per public type: the OpenAPI document and the README show these. */
export const EVENT_EXAMPLES: Record<PublicEventType, { summary: string; data: Record<string, unknown> }> = {
  'message.received': {
    summary: 'A customer message was stored (once per wamid).',
    data: {
      wamid: 'wamid.HBgLMTU1NTAxMjM0NTYVAgASGBQzQTdEMEQ5',
      phone_number_id: '106540352242922',
      wa_id: '15550123456',
      contact_id: '01JF8Z3H1XQ4K7B2C9D6E5F4G3',
      type: 'text',
      text: 'Hi, is the blue one still in stock?',
      timestamp: '2026-12-06T17:30:00.000Z',
    },
  },
  'message.sent': {
    summary: 'The Cloud API accepted an outbound message.',
    data: {
      wamid: 'wamid.HBgLMTU1NTAxMjM0NTYVAgARGBI5QjE3',
      outbox_id: '01JF8Z4A0B1C2D3E4F5G6H7J8K',
      kind: 'reply',
      phone_number_id: '106540352242922',
      to: '15550123456',
      type: 'text',
      text: 'Yes, it ships today.',
      follow_up_id: null,
      campaign_recipient_id: null,
    },
  },
  'message.status': {
    summary: "An outbound message's status moved forward (pricing when Meta sent it).",
    data: {
      wamid: 'wamid.HBgLMTU1NTAxMjM0NTYVAgARGBI5QjE3',
      status: 'delivered',
      previous_status: 'sent',
      error: null,
      pricing: { billable: true, pricing_model: 'PMP', category: 'service' },
    },
  },
  'message.failed': {
    summary:
      'An outbound message failed: refused by the API (reason permanent), retries given up (dead), or a ' +
      'failed status from Meta (reason status: wamid set; outbox_id, kind and attempts absent).',
    data: {
      wamid: null,
      outbox_id: '01JF8Z4A0B1C2D3E4F5G6H7J8K',
      kind: 'follow_up',
      reason: 'permanent',
      attempts: 1,
      error_code: 131047,
      error_title: 'Re-engagement message',
    },
  },
  'conversation.opened': {
    summary: 'A new conversation started.',
    data: {
      phone_number_id: '106540352242922',
      contact_id: '01JF8Z3H1XQ4K7B2C9D6E5F4G3',
      queue_state: 'open',
      assigned_route: 'ai',
      conversation_class: 'sales',
      priority: 'normal',
    },
  },
  'conversation.state_changed': {
    summary: 'The queue state moved.',
    data: {
      from: 'open',
      to: 'pending',
      reason: 'business_message',
      actor: 'reply',
      at: '2026-12-06T17:30:01.000Z',
    },
  },
  'conversation.routed': {
    summary: 'The assigned route changed.',
    data: { from: 'ai', to: 'human', conversation_class: 'support' },
  },
  'conversation.escalated': {
    summary: 'The conversation was escalated to a human.',
    data: {
      from: 'open',
      to: 'escalated',
      reason: 'negative_sentiment',
      actor: 'engine',
      at: '2026-12-06T17:30:01.000Z',
    },
  },
  'conversation.closed': {
    summary: 'The conversation was closed.',
    data: {
      from: 'pending',
      to: 'closed',
      reason: 'idle',
      actor: 'scheduler',
      at: '2026-12-06T17:30:01.000Z',
    },
  },
  'draft.created': {
    summary: 'The responder wrote a draft for a human to approve (route hybrid).',
    data: { draft_id: '01JF8Z5B0C1D2E3F4G5H6J7K8M', text: 'Yes, it ships today.', source: 'rules' },
  },
  'draft.resolved': {
    summary:
      'A draft was approved (decided_by, edited), discarded (decided_by) or superseded (reason: what ' +
      'made it stale, no decided_by).',
    data: {
      draft_id: '01JF8Z5B0C1D2E3F4G5H6J7K8M',
      resolution: 'approved',
      decided_by: 'token:01JF8Z5B',
      edited: true,
    },
  },
  'follow_up.sent': {
    summary: 'A follow-up was accepted by the API.',
    data: {
      follow_up_id: '01JF8Z6C0D1E2F3G4H5J6K7M8N',
      rule_id: 'nudge-1',
      sequence: 0,
      wamid: 'wamid.HBgLMTU1NTAxMjM0NTYVAgARGBI5QjE4',
    },
  },
  'follow_up.skipped': {
    summary: 'A follow-up rule was passed over, with the reason.',
    data: {
      follow_up_id: '01JF8Z6C0D1E2F3G4H5J6K7M8N',
      rule_id: 'nudge-2',
      sequence: 1,
      reason: 'max_reached',
    },
  },
  'campaign.state_changed': {
    summary: 'A campaign moved between states (with reason when the change had one, as on a pause).',
    data: { campaign_id: '01JF8Z7D0E1F2G3H4J5K6M7N8P', from: 'scheduled', to: 'running' },
  },
  'campaign.completed': {
    summary: 'Every recipient of a campaign was handed to the outbox.',
    data: { campaign_id: '01JF8Z7D0E1F2G3H4J5K6M7N8P', from: 'running', to: 'completed' },
  },
  'campaign.paused': {
    summary: 'A campaign was paused, with the reason.',
    data: { campaign_id: '01JF8Z7D0E1F2G3H4J5K6M7N8P', from: 'running', to: 'paused', reason: 'root' },
  },
  'contact.opted_out': {
    summary: 'The customer asked not to be messaged.',
    data: { contact_id: '01JF8Z3H1XQ4K7B2C9D6E5F4G3', wa_id: '15550123456', keyword: 'STOP' },
  },
  'contact.opted_in': {
    summary: 'The customer asked to be messaged again.',
    data: { contact_id: '01JF8Z3H1XQ4K7B2C9D6E5F4G3', wa_id: '15550123456', keyword: 'START' },
  },
  'contact.identity_changed': {
    summary: 'The customer changed phone number or business-scoped user id.',
    data: {
      contact_id: '01JF8Z3H1XQ4K7B2C9D6E5F4G3',
      kind: 'wa_id',
      previous: '15550123456',
      current: '15550999888',
      source: 'user_changed_number',
      wa_id: '15550999888',
      user_id: 'US.13491208655302741918',
    },
  },
  'media.stored': {
    summary: 'An inbound media file was downloaded and stored.',
    data: {
      wamid: 'wamid.HBgLMTU1NTAxMjM0NTYVAgASGBQzQTdEMEQ6',
      media_id: '1234567890',
      media_type: 'image',
      mime_type: 'image/jpeg',
      size_bytes: 48213,
      sha256: '3f2a9c0e5b7d4a1f8e6c2b9d0a7f5e3c1b8d6a4f2e0c9b7d5a3f1e8c6b4d2a0f',
    },
  },
  'template.status_changed': {
    summary: 'Meta changed a message template status.',
    data: {
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      previous_status: 'PENDING',
      reason: 'NONE',
      template_id: '1689556908129832',
    },
  },
  'runtime.status_changed': {
    summary: 'The runtime was paused or resumed, or a subscription was disabled (then with subscription_id).',
    data: { status: 'paused', previous_status: 'active', reason: 'paused by root' },
  },
};

/** The envelope of the example of `type` (the OpenAPI document). */
export function exampleEnvelope(type: PublicEventType): EventEnvelope {
  return {
    id: 'evt_01JF8Z8E0F1G2H3J4K5M6N7P8Q',
    type,
    occurred_at: '2026-12-06T17:30:01.000Z',
    agent_uuid: '6f1c2a9e-3b7d-4f0e-9a51-2c8d7e4b1f03',
    conversation_id: type.startsWith('campaign.') || type.startsWith('runtime.') ? null : CONV,
    data: EVENT_EXAMPLES[type].data,
  };
}
