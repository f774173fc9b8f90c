// The closed set of error codes: every code has an HTTP status of the SPEC §8 kind (the compiler already
// refuses a code without a case in statusFor; this pins the statuses the issue named).
import { describe, expect, it } from 'vitest';
import { statusFor } from '../../src/http/errors.js';
import { ERROR_CODES } from '../../src/lib/app-error.js';

describe('error codes', () => {
  it('every code has a 4xx or 5xx status', () => {
    for (const code of ERROR_CODES) {
      const status = statusFor(code);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
  });

  it('an invalid configuration and an invalid outbound message are the caller’s mistakes: 400', () => {
    expect(statusFor('config_invalid')).toBe(400);
    expect(statusFor('invalid_outbound_message')).toBe(400);
  });

  it('only internal_error is a 500', () => {
    expect(ERROR_CODES.filter((c) => statusFor(c) === 500)).toEqual(['internal_error']);
  });

  it('lists each code once', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});
