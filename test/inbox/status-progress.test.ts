import { describe, expect, it } from 'vitest';
import { nextStatus, statusRank } from '../../src/inbox/status-progress.js';

describe('nextStatus: statuses only move forward', () => {
  it.each([
    // current, incoming, expected (null = unchanged)
    [null, 'sent', 'sent'],
    ['queued', 'sent', 'sent'],
    ['accepted', 'delivered', 'delivered'],
    ['sent', 'delivered', 'delivered'],
    ['sent', 'read', 'read'],
    ['delivered', 'read', 'read'],
    ['read', 'played', 'played'],
    ['delivered', 'sent', null],
    ['read', 'delivered', null],
    ['read', 'sent', null],
    ['played', 'read', null],
    ['sent', 'sent', null],
    [null, 'failed', 'failed'],
    ['sent', 'failed', 'failed'],
    ['delivered', 'failed', null],
    ['read', 'failed', null],
    ['failed', 'sent', null],
    ['failed', 'delivered', null],
    ['failed', 'read', null],
    ['sent', 'deleted', null],
    ['sent', 'warning', null],
  ])('%s + %s → %s', (current, incoming, expected) => {
    expect(nextStatus(current, incoming)).toBe(expected);
  });

  it('orders same-second statuses by stage', () => {
    const sorted = ['read', 'failed', 'sent', 'delivered', 'played'].sort(
      (a, b) => statusRank(a) - statusRank(b),
    );
    expect(sorted).toEqual(['sent', 'delivered', 'read', 'played', 'failed']);
  });
});
