import { describe, expect, it } from 'vitest';
import { isWindowOpen, SERVICE_WINDOW_MS, windowExpiresAt } from '../../src/conversations/window.js';

const last = Date.UTC(2026, 0, 5, 8, 0, 0);
const minute = 60_000;

describe('customer service window', () => {
  it('expires 24 h after the last customer message timestamp', () => {
    expect(windowExpiresAt({ last_customer_message_at: last })).toBe(last + SERVICE_WINDOW_MS);
    expect(new Date(last + SERVICE_WINDOW_MS).toISOString()).toBe('2026-01-06T08:00:00.000Z');
  });

  it.each([
    ['right after the message', 0, true],
    ['at 23:59', 23 * 60 * minute + 59 * minute, true],
    ['one millisecond before 24:00', SERVICE_WINDOW_MS - 1, true],
    ['at exactly 24:00', SERVICE_WINDOW_MS, false],
    ['at 24:01', SERVICE_WINDOW_MS + minute, false],
  ])('is %s → open=%s', (_label, offset, open) => {
    expect(isWindowOpen({ last_customer_message_at: last }, last + offset)).toBe(open);
  });

  it('is closed when the customer never wrote', () => {
    expect(windowExpiresAt({ last_customer_message_at: null })).toBeNull();
    expect(isWindowOpen({ last_customer_message_at: null }, last)).toBe(false);
  });
});
