// A queued outbox row with nothing attached (no conversation, contact, follow-up or campaign), for
// store tests that exercise the queue itself: claims, leases, counters.
import type { OutboxRow } from '../../src/store/outbox-repo.js';

/** A manual text row to 4917000000001 on pn1, due and created at `at`; `over` replaces any field. */
export function bareOutboxRow(id: string, at: number, over: Partial<OutboxRow> = {}): OutboxRow {
  return {
    id,
    conversation_id: null,
    contact_id: null,
    phone_number_id: 'pn1',
    to: '4917000000001',
    kind: 'manual',
    priority: 2,
    payload: '{}',
    state: 'queued',
    attempts: 0,
    next_attempt_at: at,
    lease_until: null,
    wamid: null,
    error_code: null,
    error_title: null,
    follow_up_id: null,
    campaign_recipient_id: null,
    created_at: at,
    updated_at: at,
    sent_at: null,
    ...over,
  };
}
