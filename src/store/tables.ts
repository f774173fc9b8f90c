// Row types of every table, as Kysely sees them. Times are integer milliseconds since the epoch
// (portable to PostgreSQL bigint); JSON columns are TEXT holding JSON.
// Over 300 lines on purpose: the row type of every table in one place, so the Database interface Kysely
// checks every query against reads in one go next to the migrations (media's tables are already apart).
import type { Generated } from 'kysely';
import type { MediaTables } from './media-tables.js';

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface ApiTokensTable {
  id: string;
  name: string;
  tier: 'standard' | 'root';
  token_hash: string;
  /** First characters of the token, to tell tokens apart in listings without revealing them. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  actor: string;
  action: string;
  details: string;
  at: number;
}

export interface FoundationTables {
  settings: SettingsTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
}

// Feature groups add their tables below and join them into Database.

// Ingress (migrations/0002_ingress.ts, SPEC §3).
export type InboxState = 'pending' | 'processed' | 'rejected' | 'dead';

export interface InboxTable {
  id: string;
  received_at: number;
  /** The raw request body exactly as received (Meta's escaped JSON). */
  body: string;
  /** SHA-256 hex of the body. */
  delivery_hash: string;
  state: InboxState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  processed_at: number | null;
  /** The instance processing it and until when (migrations/0016; store/inbox-repo.ts claimDue). */
  lease_owner?: string | null;
  lease_until?: number | null;
}

export interface ContactsTable {
  id: string;
  /** The current phone number (older ones stay in contact_identities). */
  wa_id: string | null;
  /** The current business-scoped user id (BSUID). */
  user_id: string | null;
  username: string | null;
  profile_name: string | null;
  opted_out_at: number | null;
  opted_in_at: number | null;
  created_at: number;
  updated_at: number;
  /** Set on the contact that stands for a WhatsApp group (its conversation is the group's). */
  group_id: string | null;
}

export interface ContactIdentitiesTable {
  kind: 'wa_id' | 'user_id';
  value: string;
  contact_id: string;
  created_at: number;
}

export type QueueState = 'open' | 'pending' | 'escalated' | 'closed';
export type AssignedRoute = 'ai' | 'hybrid' | 'human';

export interface ConversationsTable {
  id: string;
  phone_number_id: string;
  contact_id: string;
  agent_id: number | null;
  queue_state: Generated<QueueState>;
  assigned_route: Generated<AssignedRoute>;
  conversation_class: Generated<string>;
  priority: Generated<'low' | 'normal' | 'high'>;
  escalation_reason: string | null;
  closed_reason: string | null;
  campaign_id: string | null;
  intent: string | null;
  sentiment: number | null;
  opened_at: number;
  updated_at: number;
  closed_at: number | null;
  last_message_at: number;
  last_customer_message_at: number | null;
  last_business_message_at: number | null;
  window_expires_at: number | null;
  /** Customer messages since the last business message. */
  unanswered_count: Generated<number>;
  turns_total: Generated<number>;
  turns_answered: Generated<number>;
  /** Outbound messages not yet accepted by the API. */
  pending_outbound: Generated<number>;
}

export interface MessagesTable {
  id: string;
  wamid: string;
  conversation_id: string | null;
  contact_id: string | null;
  phone_number_id: string;
  direction: 'inbound' | 'outbound';
  type: string;
  /** Body, caption, button or list title, or reaction emoji. */
  text: string | null;
  status: string | null;
  error_code: number | null;
  error_title: string | null;
  context_wamid: string | null;
  /** Meta's timestamp, in ms. */
  timestamp: number;
  created_at: number;
  /** The message object as Meta sent it or as we sent it (JSON). */
  payload: string;
  /** Who wrote an outbound message outside the daemon: `business_app` (an smb_message_echoes echo). */
  source: string | null;
  /** JSON array of {text, replaced_at} (earlier texts, oldest first) when the message was edited. */
  edit_history: string | null;
  edited_at: number | null;
  /** When the sender revoked (deleted) the message. */
  deleted_at: number | null;
  /** What its statuses last said it costs (migrations/0013, SPEC §14). */
  pricing_category?: string | null;
  pricing_model?: string | null;
  pricing_type?: string | null;
  pricing_billable?: number | null;
}

export interface ContactIdentityChangesTable {
  id: string;
  contact_id: string;
  kind: 'wa_id' | 'user_id';
  previous: string | null;
  current: string;
  /** What told us: `system_message` or `user_id_update`. */
  source: string;
  /** Meta's time of the change, ms. */
  at: number;
  created_at: number;
}

export interface StatusEventsTable {
  id: string;
  inbox_id: string | null;
  wamid: string;
  status: string;
  timestamp: number;
  recipient_id: string | null;
  recipient_user_id: string | null;
  error_code: number | null;
  error_title: string | null;
  biz_opaque_callback_data: string | null;
  payload: string;
  created_at: number;
  /** Null while no message with this wamid exists. */
  applied_at: number | null;
}

export interface WebhookEventsTable {
  id: string;
  inbox_id: string;
  entry_index: number;
  change_index: number;
  field: string;
  event: string | null;
  payload: string;
  received_at: number;
  /** SHA-256 of field + value: one record per content, however often it is delivered. */
  content_hash: string | null;
}

export interface WebhookErrorsTable {
  id: string;
  inbox_id: string;
  /** Where in the delivery: "entry[0].changes[1].value.messages[2]". */
  location: string;
  code: string;
  message: string;
  created_at: number;
}

export interface TemplatesTable {
  name: string;
  language: string;
  status: string;
  category: string | null;
  template_id: string | null;
  reason: string | null;
  updated_at: number;
  /** GREEN, YELLOW, RED or UNKNOWN (migrations/0013): quality webhooks and the template sync. */
  quality?: string | null;
  /** Meta's components (header, body, buttons) as JSON, from the template sync (migrations/0018). */
  components?: string | null;
}

export interface IngressTables {
  inbox: InboxTable;
  contacts: ContactsTable;
  contact_identities: ContactIdentitiesTable;
  contact_identity_changes: ContactIdentityChangesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  status_events: StatusEventsTable;
  webhook_events: WebhookEventsTable;
  webhook_errors: WebhookErrorsTable;
  templates: TemplatesTable;
}

// Extension API (migrations/0003_extension.ts, SPEC §8).
export interface MarketplaceExtensionsTable {
  id: number;
  slug: string;
  name: string;
  version: string;
  status: 'active' | 'published' | 'beta' | 'deprecated';
  description: string;
  author: string | null;
  extension_type: string;
  platform: string;
  /** JSON array of strings. */
  capabilities: string;
  /** JSON array of strings. */
  required_permissions: string;
  documentation_url: string | null;
  pricing_model: 'free' | 'one_time' | 'subscription' | 'revenue_share' | null;
  price: number | null;
  revenue_share_percent: number | null;
  /** 0 or 1. */
  is_official: number;
  install_count: number;
  rating: number | null;
  review_count: number;
  created_at: number | null;
  updated_at: number | null;
}

export type AgentKind = 'private' | 'shared';

export interface AgentsTable {
  id: Generated<number>;
  uuid: string;
  name: string;
  kind: AgentKind;
  phone_number_id: string | null;
  created_at: number;
}

export type InstallMode = 'trial' | 'purchase' | 'queued';

export interface AgentExtensionAttachmentsTable {
  id: Generated<number>;
  agent_id: number;
  offer_id: number;
  status: string;
  install_mode: InstallMode;
  billing_model: string;
  revenue_share_percent: number | null;
  upfront_price: number | null;
  notes: string | null;
  created_at: number;
  activated_at: number | null;
  updated_at: number;
}

export interface ConfigVersionsTable {
  version: number;
  schema_version: number;
  /** The stored management override (JSON of a partial config document). */
  document: string;
  base_hash: string;
  actor: string;
  reason: string;
  /** JSON array of dotted keys. */
  changed_keys: string;
  created_at: number;
}

export interface ExtensionTables {
  marketplace_extensions: MarketplaceExtensionsTable;
  agents: AgentsTable;
  agent_extension_attachments: AgentExtensionAttachmentsTable;
  config_versions: ConfigVersionsTable;
}

// Conversation engine and outbound (migrations/0004_outbound.ts, SPEC §4-§6).
export interface ConversationTransitionsTable {
  id: string;
  conversation_id: string;
  from_state: string | null;
  to_state: string;
  reason: string;
  actor: string;
  at: number;
}

export type DraftState = 'pending' | 'approved' | 'discarded' | 'superseded';

export interface DraftsTable {
  id: string;
  conversation_id: string;
  text: string;
  /** Which responder wrote it. */
  source: string;
  state: DraftState;
  /** Approved drafts: the text that went out (the draft's, or a human's edit) and its outbox row. */
  sent_text: string | null;
  outbox_id: string | null;
  /** token:<id> for a human's decision, `engine` when superseded. */
  decided_by: string | null;
  /** Superseded: what happened instead (a human replied, the customer wrote again). */
  decided_reason: string | null;
  decided_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ResponderJobsTable {
  id: string;
  conversation_id: string;
  /** reply: route ai, send it; draft: route hybrid, store it for a human. */
  mode: 'reply' | 'draft';
  state: 'pending' | 'done';
  attempts: number;
  outcome: string | null;
  /** The instance asking the responder and until when (migrations/0016). */
  lease_owner?: string | null;
  lease_until?: number | null;
  created_at: number;
  updated_at: number;
}

export type OutboxKind = 'reply' | 'follow_up' | 'campaign' | 'manual';
export type OutboxState = 'queued' | 'sending' | 'sent' | 'failed' | 'dead' | 'cancelled';

export interface OutboxTable {
  id: string;
  conversation_id: string | null;
  contact_id: string | null;
  phone_number_id: string;
  /** The recipient's wa_id (or `user:<bsuid>`), as transports/transport.ts recipientKey. */
  to: string;
  kind: OutboxKind;
  /** 3 high, 2 normal, 1 low (follow-ups), 0 bulk (campaign sends). */
  priority: number;
  /** The OutboundMessage as JSON. */
  payload: string;
  state: OutboxState;
  attempts: number;
  next_attempt_at: number;
  /** The instance holding the row (queued in its send queue, or sending) and until when. */
  lease_owner?: string | null;
  lease_until: number | null;
  wamid: string | null;
  error_code: number | null;
  error_title: string | null;
  follow_up_id: string | null;
  campaign_recipient_id: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
}

export type FollowUpState = 'scheduled' | 'claimed' | 'sent' | 'skipped' | 'cancelled' | 'failed';

export interface FollowUpsTable {
  id: string;
  conversation_id: string;
  rule_id: string;
  /** When the business message this follow-up answers the silence of went out. */
  silence_from: number;
  /** Position in this silence's sequence (0 = first rule planned). */
  sequence: number;
  due_at: number;
  state: FollowUpState;
  /** The instance that claimed it (state `claimed`, not yet handed to the outbox) and until when. */
  lease_owner?: string | null;
  lease_until: number | null;
  outbox_id: string | null;
  sent_wamid: string | null;
  skip_reason: string | null;
  /** When the customer first wrote back after it was sent (migrations/0013: replies it earned). */
  replied_at?: number | null;
  created_at: number;
  updated_at: number;
}

export interface OutboundTables {
  conversation_transitions: ConversationTransitionsTable;
  drafts: DraftsTable;
  responder_jobs: ResponderJobsTable;
  outbox: OutboxTable;
  follow_ups: FollowUpsTable;
}

// Campaigns (migrations/0005_campaigns.ts, SPEC §7).
export type CampaignState = 'draft' | 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled';
export type RecipientState =
  | 'queued'
  | 'sent'
  | 'delivered'
  | 'read'
  | 'replied'
  | 'failed'
  | 'skipped_opted_out';

export interface CampaignsTable {
  id: string;
  agent_id: number;
  /** The business number it sends from (the agent's channel when the campaign was created). */
  phone_number_id: string;
  name: string;
  state: CampaignState;
  /** {name, language, components?} as JSON. */
  template: string;
  rate_per_second: number;
  start_at: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  paused_at: number | null;
  completed_at: number | null;
  cancelled_at: number | null;
  recipients_total: number;
  /** Recipients in each state now; moved in the same transaction as the recipient. */
  count_queued: number;
  count_sent: number;
  count_delivered: number;
  count_read: number;
  count_replied: number;
  count_failed: number;
  count_skipped_opted_out: number;
  /** Why it paused itself or waits (migrations/0013, SPEC §14); null when a person paused it. */
  pause_reason?: string | null;
  schedule_reason?: string | null;
  /** The campaign whose recipients it was made from. */
  retarget_of?: string | null;
  /** Outcome of the last 100 sends, one character each ('0' accepted, '1' failed permanently). */
  recent_outcomes?: string;
  sends_recorded?: number;
}

export interface CampaignRecipientsTable {
  id: string;
  campaign_id: string;
  /** Position in the request's recipient list (before de-duplication). */
  index: number;
  wa_id: string;
  contact_id: string | null;
  /** Body parameters as JSON: string[] (positional) or {name: value} (named); null = none. */
  parameters: string | null;
  state: RecipientState;
  /** The live outbox row while queued for sending (null = not handed to the outbox yet). */
  outbox_id: string | null;
  wamid: string | null;
  error_code: number | null;
  error_title: string | null;
  sent_at: number | null;
  replied_at: number | null;
  conversation_id: string | null;
  updated_at: number;
  delivered_at?: number | null;
  read_at?: number | null;
  failed_at?: number | null;
  /** Its position among the campaign's sends (recent_outcomes). */
  send_seq?: number | null;
}

export interface CampaignTables {
  campaigns: CampaignsTable;
  campaign_recipients: CampaignRecipientsTable;
}

// Insights rollups (migrations/0006_insights.ts, SPEC §8). agent_id 0 = no agent owns the channel.
export interface CustomerTurnsTable {
  id: string;
  conversation_id: string;
  agent_id: number;
  /** The turn's first customer message timestamp (ms). */
  started_at: number;
  /** When the first business message after it was accepted by the API. */
  answered_at: number | null;
  response_ms: number | null;
}

export interface InsightRollupsTable {
  /** -1 = every agent. */
  agent_id: number;
  /** m: minute (kept 31 days, migrations/0007), h: hour, d: UTC day. */
  period: 'm' | 'h' | 'd';
  /** Start of the period (ms). */
  start: number;
  turns: Generated<number>;
  answered: Generated<number>;
  /** JSON object: response-time bucket index → answered turns. */
  response_hist: Generated<string>;
  silences: Generated<number>;
  covered: Generated<number>;
  /** Campaign sends accepted in the period (migrations/0007), and those answered in attribution. */
  campaign_sent: Generated<number>;
  campaign_replied: Generated<number>;
}

export interface ConversationStateCountsTable {
  agent_id: number;
  queue_state: string;
  /** 1 when the customer's last turn is unanswered. */
  waiting: number;
  n: number;
}

/** Outbox rows not yet accepted by the API, per owner (migrations/0007, store/outbox-repo.ts). */
export interface OutboundPendingCountsTable {
  /** "agent:<id>" (0: no agent owns the conversation) or "channel:<phone_number_id>" (no conversation). */
  owner: string;
  n: number;
}

/** Messages Meta reported a pricing for, per hour (migrations/0013, SPEC §14). */
export interface PricingCountsTable {
  hour: number;
  /** The outbox kind that sent it (reply, follow_up, campaign, manual; unknown when not ours). */
  kind: string;
  /** '' when not a campaign send. */
  campaign_id: string;
  category: string;
  /** The recipient's first four digits. */
  prefix: string;
  billable: Generated<number>;
  free: Generated<number>;
}

export interface EarnedRepliesTable {
  hour: number;
  kind: 'campaign' | 'follow_up';
  n: Generated<number>;
}

export interface InsightTables {
  pricing_counts: PricingCountsTable;
  earned_replies: EarnedRepliesTable;
  customer_turns: CustomerTurnsTable;
  outbound_pending_counts: OutboundPendingCountsTable;
  insight_rollups: InsightRollupsTable;
  conversation_state_counts: ConversationStateCountsTable;
}

// Dashboard sign-in sessions (migrations/0014, SPEC §13).
export interface DashboardSessionsTable {
  /** SHA-256 (hex) of the session secret the cookie carries. */
  id_hash: string;
  token_id: string;
  created_at: number;
  expires_at: number;
}

export interface DashboardTables {
  dashboard_sessions: DashboardSessionsTable;
}

// Events out (migrations/0011_events.ts, SPEC §11).
export interface DomainEventsTable {
  seq: Generated<number>;
  /** evt_<ulid> */
  id: string;
  type: string;
  /** 1: a fact only the in-process projections read; never delivered or streamed. */
  internal: number;
  occurred_at: number;
  agent_uuid: string | null;
  conversation_id: string | null;
  /** JSON object. */
  data: string;
}

export interface EventSubscriptionsTable {
  id: string;
  url: string;
  /** JSON array of types, or ["*"]. */
  types: string;
  agent_uuid: string | null;
  description: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_until: number | null;
  enabled: number;
  disabled_reason: string | null;
  cursor_seq: number;
  failing_since: number | null;
  last_success_at: number | null;
  last_failure_at: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export type EventDeliveryState = 'pending' | 'delivered' | 'dead';

export interface EventDeliveriesTable {
  id: string;
  subscription_id: string;
  event_seq: number;
  event_id: string;
  /** The event's conversation id, '' when it has none. */
  order_key: string;
  state: EventDeliveryState;
  attempts: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

export interface EventDeliveryAttemptsTable {
  id: string;
  subscription_id: string;
  delivery_id: string | null;
  event_id: string;
  event_type: string;
  at: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

export interface EventTables {
  domain_events: DomainEventsTable;
  event_subscriptions: EventSubscriptionsTable;
  event_deliveries: EventDeliveriesTable;
  event_delivery_attempts: EventDeliveryAttemptsTable;
}

/** Shared send rate caps (store/rate-slots-repo.ts): the next start of each capped key. */
export interface RateSlotsTable {
  key: string;
  /** Earliest start of the next send, microseconds since the epoch. */
  next_at_us: number;
}

export interface RateSlotTables {
  rate_slots: RateSlotsTable;
}

export type Database = FoundationTables &
  DashboardTables &
  IngressTables &
  ExtensionTables &
  OutboundTables &
  CampaignTables &
  InsightTables &
  MediaTables &
  EventTables &
  RateSlotTables;

export type { Generated };
