import { describe, expect, it } from 'vitest';
import { classify, ERROR_CODES, isWindowClosed, lookupErrorCode } from '../../src/outbound/error-codes.js';

describe('classify', () => {
  // SPEC §5 is the contract for these.
  it.each([
    [130429, 400, 'retryable'], // throughput
    [131056, 400, 'retryable'], // pair rate limit
    [4, 400, 'retryable'], // app rate limit
    [80007, 400, 'retryable'], // WABA rate limit
    [131000, 500, 'retryable'], // generic
    [1, 400, 'retryable'],
    [2, 503, 'retryable'],
    [131016, 500, 'retryable'],
    [131026, 400, 'permanent'],
    [131047, 400, 'permanent'],
    [132000, 400, 'permanent'],
    [132001, 404, 'permanent'],
    [132005, 400, 'permanent'],
    [132007, 400, 'permanent'],
    [132012, 400, 'permanent'],
    [132015, 400, 'permanent'],
    [132016, 400, 'permanent'],
    [132068, 400, 'permanent'],
    [132069, 400, 'permanent'],
    [131051, 400, 'permanent'],
    [100, 400, 'permanent'],
    [131008, 400, 'permanent'],
    [131009, 400, 'permanent'],
    [131021, 400, 'permanent'],
    [131052, 400, 'permanent'],
    [131053, 400, 'permanent'],
    [135000, 400, 'permanent'],
    [190, 401, 'auth'],
    [131031, 403, 'auth'],
    [0, 401, 'auth'],
    [10, 403, 'auth'],
  ] as const)('code %i (HTTP %i) is %s', (code, status, kind) => {
    expect(classify(code, status)).toBe(kind);
  });

  it('a known code decides regardless of the HTTP status it came with', () => {
    expect(classify(131026, 500)).toBe('permanent');
    expect(classify(130429, 400)).toBe('retryable');
    expect(classify(190, 400)).toBe('auth');
  });

  it.each([
    [250, 403, 'auth'], // 200-299 API Permission range
    [299, 403, 'auth'],
    [132999, 400, 'permanent'], // an unlisted template error
    [999999, 503, 'retryable'],
    [999999, 500, 'retryable'],
    [999999, 429, 'retryable'],
    [999999, 401, 'auth'],
    [999999, 400, 'permanent'],
    [null, 502, 'retryable'],
    [null, 404, 'permanent'],
    [null, null, 'retryable'], // network error or timeout
  ] as const)('unlisted code %s with HTTP %s is %s', (code, status, kind) => {
    expect(classify(code, status)).toBe(kind);
  });
});

describe('the error code table', () => {
  it('cites a source for every entry and lists each code once', () => {
    const codes = new Set<number>();
    for (const e of ERROR_CODES) {
      expect(e.source, `code ${e.code}`).toMatch(/^https:\/\/developers\.facebook\.com\//);
      expect(codes.has(e.code), `code ${e.code} twice`).toBe(false);
      codes.add(e.code);
      expect(e.title.length).toBeGreaterThan(0);
      expect(e.httpStatus).toBeGreaterThanOrEqual(400);
    }
  });

  it('flags 131047 alone as "window closed"', () => {
    expect(isWindowClosed(131047)).toBe(true);
    expect(ERROR_CODES.filter((e) => e.windowClosed).map((e) => e.code)).toEqual([131047]);
    expect(isWindowClosed(131026)).toBe(false);
    expect(isWindowClosed(null)).toBe(false);
  });

  it('looks up titles by code', () => {
    expect(lookupErrorCode(131026)?.title).toBe('Message undeliverable');
    expect(lookupErrorCode(424242)).toBeUndefined();
    expect(lookupErrorCode(null)).toBeUndefined();
  });
});
