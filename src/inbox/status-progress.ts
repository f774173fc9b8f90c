// Delivery statuses only move forward: sent < delivered < read < played. Meta sends them
// concurrently and out of order (a read can come before its delivered, a sent after both), so each
// incoming status is compared with the current one instead of simply overwriting it.

const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, played: 4 };

/**
 * The status a message should have after `incoming`, or null to leave it unchanged. `failed` is
 * final, and applies only while the message has not been delivered (a late failure report after a
 * delivery or read does not undo it). Statuses Meta may add later are recorded as events only.
 */
export function nextStatus(current: string | null, incoming: string): string | null {
  if (current === 'failed') return null;
  if (incoming === 'failed') return (RANK[current ?? ''] ?? 0) >= RANK.delivered! ? null : 'failed';
  const rank = RANK[incoming];
  if (rank === undefined) return null;
  // Anything before "sent" (null, or an outbox state such as "queued") ranks 0.
  return rank > (RANK[current ?? ''] ?? 0) ? incoming : null;
}

/** Sort key for statuses with the same timestamp: apply the earlier stage first. */
export function statusRank(status: string): number {
  return status === 'failed' ? 5 : (RANK[status] ?? 0);
}
