// The shared send slots (store/rate-slots-repo.ts): successive takes are a spacing apart, a free key
// starts now, several keys start at the latest of them and all move on, and a next start far ahead
// (a clock stepped back) is forgotten instead of holding sends for hours.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rateSlotsRepo } from '../../src/store/rate-slots-repo.js';
import { engines, openTestDatabase, type TestDatabase } from '../helpers/engines.js';

const T0 = 1_800_000_000_000_000; // microseconds
const channel = { key: 'pnid:1', spacingUs: 12_812.5 };

describe.each(engines)('rate slots on %s', (engine) => {
  let handle: TestDatabase['handle'];
  let opened: TestDatabase;
  beforeEach(async () => {
    opened = await openTestDatabase(engine);
    handle = opened.handle;
  });
  afterEach(async () => {
    await opened.close();
  });

  it('hands out starts one spacing apart while demand outruns the cap, and now once it is idle', async () => {
    const starts = [];
    for (let i = 0; i < 4; i++) starts.push(await rateSlotsRepo.take(handle.db, [channel], T0));
    expect(starts).toEqual([T0, T0 + 12_813, T0 + 2 * 12_813, T0 + 3 * 12_813]);
    expect(await rateSlotsRepo.take(handle.db, [channel], T0 + 1_000_000)).toBe(T0 + 1_000_000);
  });

  it('takes several keys at the latest of their next starts and moves each on by its own spacing', async () => {
    const campaign = { key: 'campaign:c1', spacingUs: 50_000 };
    await rateSlotsRepo.take(handle.db, [campaign], T0); // campaign next at T0 + 50 ms
    const start = await rateSlotsRepo.take(handle.db, [channel, campaign], T0);
    expect(start).toBe(T0 + 50_000);
    expect(await rateSlotsRepo.take(handle.db, [channel], T0)).toBe(T0 + 50_000 + 12_813);
    expect(await rateSlotsRepo.take(handle.db, [campaign], T0)).toBe(T0 + 100_000);
  });

  it('forgets a next start more than the horizon ahead (a clock that stepped back)', async () => {
    await rateSlotsRepo.take(handle.db, [channel], T0 + 3_600_000_000);
    expect(await rateSlotsRepo.take(handle.db, [channel], T0)).toBe(T0);
  });
});
