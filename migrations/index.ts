// Every migration, in order. Listed here (not discovered on disk) so the build cannot miss one.
// Forward only: never edit a migration that has shipped; add a new one.
import type { Migration } from 'kysely';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_ingress.js';
import * as m0003 from './0003_extension.js';
import * as m0004 from './0004_outbound.js';
import * as m0005 from './0005_campaigns.js';
import * as m0006 from './0006_insights.js';
import * as m0007 from './0007_insight_minutes.js';
import * as m0009 from './0009_draft_decisions.js';
import * as m0010 from './0010_real_traffic.js';
import * as m0011 from './0011_events.js';
import * as m0012 from './0012_media.js';
import * as m0013 from './0013_campaign_insight.js';
import * as m0014 from './0014_dashboard_sessions.js';
import * as m0015 from './0015_unmatched_status_index.js';
import * as m0016 from './0016_claim_owners.js';
import * as m0017 from './0017_rate_slots.js';
import * as m0018 from './0018_template_components.js';
import * as m0019 from './0019_event_delivery_claim_index.js';
import * as m0020 from './0020_inbox_purge_index.js';
import * as m0021 from './0021_drop_inbox_received_at.js';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_ingress': m0002,
  '0003_extension': m0003,
  '0004_outbound': m0004,
  '0005_campaigns': m0005,
  '0006_insights': m0006,
  '0007_insight_minutes': m0007,
  '0009_draft_decisions': m0009,
  '0010_real_traffic': m0010,
  '0011_events': m0011,
  '0012_media': m0012,
  '0013_campaign_insight': m0013,
  '0014_dashboard_sessions': m0014,
  '0015_unmatched_status_index': m0015,
  '0016_claim_owners': m0016,
  '0017_rate_slots': m0017,
  '0018_template_components': m0018,
  '0019_event_delivery_claim_index': m0019,
  '0020_inbox_purge_index': m0020,
  '0021_drop_inbox_received_at': m0021,
};
