import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isQuiet,
  nextAllowedTime,
  type QuietHours,
  wallTimeOfDay,
  zoneOffset,
} from '../../src/scheduler/quiet-hours.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

const berlinNight: QuietHours = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };

describe('zoneOffset and wallTimeOfDay', () => {
  it.each([
    ['2026-01-05T12:00:00Z', 'Europe/Berlin', 60],
    ['2026-07-05T12:00:00Z', 'Europe/Berlin', 120],
    ['2026-01-05T12:00:00Z', 'America/New_York', -300],
    ['2026-01-05T12:00:00Z', 'Asia/Kolkata', 330],
    ['2026-01-05T12:00:00Z', 'Pacific/Chatham', 825],
    ['2026-01-05T12:00:00Z', 'UTC', 0],
  ])('at %s %s is UTC%+d minutes', (when, tz, minutes) => {
    expect(zoneOffset(at(when), tz)).toBe(minutes * 60_000);
  });

  it('reads the local time of day, seconds included', () => {
    expect(wallTimeOfDay(at('2026-01-05T22:30:15Z'), 'Europe/Berlin')).toBe(
      ((23 * 60 + 30) * 60 + 15) * 1000,
    );
    expect(wallTimeOfDay(at('2026-01-05T23:30:00Z'), 'Europe/Berlin')).toBe(30 * 60_000);
  });
});

describe('nextAllowedTime', () => {
  it.each<[string, QuietHours | null, string, string]>([
    ['no quiet hours', null, '2026-01-05T23:00:00Z', '2026-01-05T23:00:00Z'],
    ['before the window', berlinNight, '2026-01-05T20:59:00Z', '2026-01-05T20:59:00Z'], // 21:59 local
    ['at its start (inclusive)', berlinNight, '2026-01-05T21:00:00Z', '2026-01-06T06:00:00Z'],
    ['late evening, across midnight', berlinNight, '2026-01-05T22:30:00Z', '2026-01-06T06:00:00Z'],
    ['after midnight', berlinNight, '2026-01-06T02:00:00Z', '2026-01-06T06:00:00Z'],
    ['one second before the end', berlinNight, '2026-01-06T05:59:59Z', '2026-01-06T06:00:00Z'],
    ['at its end (exclusive)', berlinNight, '2026-01-06T06:00:00Z', '2026-01-06T06:00:00Z'],
    [
      'daytime window',
      { start: '12:00', end: '14:00', timezone: 'UTC' },
      '2026-01-05T13:00:00Z',
      '2026-01-05T14:00:00Z',
    ],
    [
      'start == end is no window',
      { start: '09:00', end: '09:00', timezone: 'UTC' },
      '2026-01-05T09:00:00Z',
      '2026-01-05T09:00:00Z',
    ],
    [
      'a half-hour zone',
      { start: '22:00', end: '07:00', timezone: 'Asia/Kolkata' },
      '2026-01-05T17:00:00Z', // 22:30 IST
      '2026-01-06T01:30:00Z', // 07:00 IST
    ],
    // Daylight saving, Europe/Berlin 2026: 29 March 02:00 CET → 03:00 CEST; 25 October 03:00 CEST → 02:00 CET.
    [
      'the night clocks go forward (7:00 CEST, one hour sooner in UTC)',
      berlinNight,
      '2026-03-28T22:00:00Z', // 23:00 CET
      '2026-03-29T05:00:00Z', // 07:00 CEST
    ],
    [
      'the night clocks go back (7:00 CET, one hour later in UTC)',
      berlinNight,
      '2026-10-24T21:00:00Z', // 23:00 CEST
      '2026-10-25T06:00:00Z', // 07:00 CET
    ],
    [
      'an end that falls in the skipped hour: the first instant after the gap',
      { start: '01:00', end: '02:30', timezone: 'Europe/Berlin' },
      '2026-03-29T00:30:00Z', // 01:30 CET
      '2026-03-29T01:00:00Z', // 03:00 CEST (02:30 never happens that night)
    ],
    [
      'an end in the repeated hour, first pass',
      { start: '01:00', end: '02:30', timezone: 'Europe/Berlin' },
      '2026-10-24T23:30:00Z', // 01:30 CEST
      '2026-10-25T00:30:00Z', // 02:30 CEST
    ],
    [
      'an end in the repeated hour, second pass',
      { start: '01:00', end: '02:30', timezone: 'Europe/Berlin' },
      '2026-10-25T01:10:00Z', // 02:10 CET
      '2026-10-25T01:30:00Z', // 02:30 CET
    ],
    [
      'clocks going back put the wall clock inside the window again',
      { start: '01:00', end: '03:00', timezone: 'Europe/Berlin' },
      '2026-10-25T00:30:00Z', // 02:30 CEST; at 01:00Z it is 02:00 CET, still quiet
      '2026-10-25T02:00:00Z', // 03:00 CET
    ],
    [
      'America/New_York spring forward',
      { start: '22:00', end: '07:00', timezone: 'America/New_York' },
      '2026-03-08T04:00:00Z', // 23:00 EST on 7 March
      '2026-03-08T11:00:00Z', // 07:00 EDT
    ],
    [
      'the only allowed minute never happens on the spring-forward day (fast-check counterexample)',
      { start: '02:01', end: '02:00', timezone: 'America/New_York' },
      '2026-03-08T04:00:00Z', // 23:00 EST on 7 March; 02:00-02:01 is skipped on 8 March
      '2026-03-09T06:00:00Z', // 02:00 EDT on 9 March, 26 hours later
    ],
    [
      'America/New_York fall back',
      { start: '22:00', end: '07:00', timezone: 'America/New_York' },
      '2026-11-01T03:00:00Z', // 23:00 EDT on 31 October
      '2026-11-01T12:00:00Z', // 07:00 EST
    ],
  ])('%s', (_name, quiet, due, expected) => {
    expect(iso(nextAllowedTime(at(due), quiet))).toBe(iso(at(expected)));
  });

  const zones = [
    'Europe/Berlin',
    'America/New_York',
    'America/Santiago', // changes at midnight
    'Australia/Lord_Howe', // 30-minute DST shift
    'Asia/Kolkata',
    'Pacific/Chatham',
    'UTC',
  ];
  const hhmm = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  // Times around 2026's transitions of these zones, and anywhere in the year.
  const transitions = [
    '2026-03-08T07:00:00Z',
    '2026-11-01T06:00:00Z',
    '2026-03-29T01:00:00Z',
    '2026-10-25T01:00:00Z',
    '2026-04-04T15:00:00Z',
    '2026-10-03T15:30:00Z',
    '2026-04-05T03:00:00Z',
    '2026-09-06T04:00:00Z',
    '2026-04-04T14:00:00Z',
    '2026-09-26T14:00:00Z',
  ].map(at);
  const due = fc.oneof(
    fc
      .tuple(fc.constantFrom(...transitions), fc.integer({ min: -36 * 3600_000, max: 36 * 3600_000 }))
      .map(([t, d]) => t + d),
    fc.integer({ min: at('2026-01-01T00:00:00Z'), max: at('2027-01-01T00:00:00Z') }),
  );

  it('returns the earliest instant outside quiet hours, in any zone, around any transition (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), hhmm, hhmm, due, (timezone, start, end, dueAt) => {
        const quiet = { start, end, timezone };
        const result = nextAllowedTime(dueAt, quiet);
        expect(result).toBeGreaterThanOrEqual(dueAt);
        expect(isQuiet(result, quiet)).toBe(false);
        // A quiet window of 23h59m whose one allowed minute falls into a spring-forward gap
        // (New York 02:01-02:00 on 8 March) is quiet for a whole extra day: the bound is two days.
        expect(result - dueAt).toBeLessThanOrEqual(50 * 3600_000);
        // Earliest: quiet at every minute on the way and just before the answer.
        for (let t = dueAt; t < result; t += 60_000) expect(isQuiet(t, quiet)).toBe(true);
        if (result > dueAt) expect(isQuiet(result - 1, quiet)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
