import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import {
  type PacedTask,
  PacingQueue,
  type PacingQueueOptions,
  PacingQueues,
  type TaskOutcome,
} from '../../src/outbound/pacing-queue.js';
import { SlidingWindowLimiter } from '../../src/outbound/rate-limiter.js';
import { manualTimers } from '../helpers/manual-timers.js';

interface Harness {
  clock: FakeClock;
  timers: ReturnType<typeof manualTimers>;
  queue: PacingQueue<string>;
  /** [task id, clock time] for every send start, in order. */
  starts: [string, number][];
  settled: [string, TaskOutcome<string>][];
  task(id: string, extra?: Partial<PacedTask<string>>): PacedTask<string>;
}

function harness(options: Partial<PacingQueueOptions<string>> = {}): Harness {
  const clock = new FakeClock(0);
  const timers = manualTimers(clock);
  const starts: [string, number][] = [];
  const settled: [string, TaskOutcome<string>][] = [];
  const queue = new PacingQueue<string>({
    ratePerSecond: 10,
    concurrency: 2,
    perRecipientIntervalMs: 0,
    capacity: 100,
    clock,
    timers,
    windowSlackMs: 0,
    onSettled: (task, outcome) => void settled.push([task.id, outcome]),
    ...options,
  });
  return {
    clock,
    timers,
    queue,
    starts,
    settled,
    task: (id, extra = {}) => ({
      id,
      priority: 'normal',
      run: async () => {
        starts.push([id, clock.now()]);
        return `done ${id}`;
      },
      ...extra,
    }),
  };
}

describe('PacingQueue', () => {
  it('runs tasks and reports each result once', async () => {
    const h = harness();
    expect(h.queue.add(h.task('a'))).toBe('accepted');
    expect(h.queue.add(h.task('b'))).toBe('accepted');
    const idle = h.queue.onIdle();
    await h.timers.advance(1000);
    await idle;
    expect(h.settled).toEqual([
      ['a', { ok: true, value: 'done a' }],
      ['b', { ok: true, value: 'done b' }],
    ]);
    expect(h.queue.size).toBe(0);
  });

  it('reports a task that throws as a failed outcome and carries on', async () => {
    const h = harness();
    const boom = new Error('boom');
    h.queue.add({ id: 'x', priority: 'normal', run: () => Promise.reject(boom) });
    h.queue.add(h.task('y'));
    await h.timers.advance(1000);
    expect(h.settled).toEqual([
      ['x', { ok: false, error: boom }],
      ['y', { ok: true, value: 'done y' }],
    ]);
  });

  it('spreads sends evenly at rate_per_second and never exceeds it in any second (fake clock)', async () => {
    const h = harness({ ratePerSecond: 10, concurrency: 4 });
    for (let i = 0; i < 35; i++) h.queue.add(h.task(`t${i}`));
    await h.timers.advance(0);
    expect(h.starts).toHaveLength(1);
    await h.timers.advance(999);
    expect(h.starts).toHaveLength(10);
    await h.timers.advance(2500);
    expect(h.starts).toHaveLength(35);
    const times = h.starts.map(([, t]) => t);
    expect(times.slice(0, 5)).toEqual([0, 100, 200, 300, 400]);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(10);
  });

  it('widens the window by the slack so the API never sees more than the rate', async () => {
    const h = harness({ ratePerSecond: 4, concurrency: 4, windowSlackMs: 100 });
    for (let i = 0; i < 9; i++) h.queue.add(h.task(`t${i}`));
    await h.timers.advance(5000);
    expect(h.starts.map(([, t]) => t)).toEqual([0, 275, 550, 825, 1100, 1375, 1650, 1925, 2200]);
  });

  it('starts replies before campaign sends: high > normal > low > bulk', async () => {
    const h = harness({ concurrency: 1, ratePerSecond: 100 });
    h.queue.pause();
    h.queue.add(h.task('campaign-1', { priority: 'bulk' }));
    h.queue.add(h.task('low-1', { priority: 'low' }));
    h.queue.add(h.task('normal-1', { priority: 'normal' }));
    h.queue.add(h.task('campaign-2', { priority: 'bulk' }));
    h.queue.add(h.task('high-1', { priority: 'high' }));
    h.queue.add(h.task('normal-2', { priority: 'normal' }));
    h.queue.resume();
    await h.timers.advance(1000);
    expect(h.starts.map(([id]) => id)).toEqual([
      'high-1',
      'normal-1',
      'normal-2',
      'low-1',
      'campaign-1',
      'campaign-2',
    ]);
  });

  it('keeps sends to one recipient an interval apart without holding up others', async () => {
    const h = harness({ perRecipientIntervalMs: 5000, ratePerSecond: 100, concurrency: 1 });
    h.queue.add(h.task('a1', { recipient: 'A' }));
    h.queue.add(h.task('a2', { recipient: 'A' }));
    h.queue.add(h.task('b1', { recipient: 'B' }));
    await h.timers.advance(10);
    // a2 waits for A's interval; b1 takes the next rate slot instead of queueing behind it.
    expect(h.starts).toEqual([
      ['a1', 0],
      ['b1', 10],
    ]);
    await h.timers.advance(4989);
    expect(h.starts).toHaveLength(2);
    await h.timers.advance(1);
    expect(h.starts.at(-1)).toEqual(['a2', 5000]);
  });

  it('also respects a task-specific window such as a campaign rate cap', async () => {
    const h = harness({ ratePerSecond: 100, concurrency: 2 });
    const campaign = new SlidingWindowLimiter({ limit: 2, windowMs: 1000, spread: true });
    for (let i = 0; i < 5; i++) h.queue.add(h.task(`c${i}`, { priority: 'bulk', limiters: [campaign] }));
    h.queue.add(h.task('reply'));
    await h.timers.advance(100);
    // The campaign gets its 2 per second (spread: at 0 and 500 ms); the reply is not stuck behind it.
    expect(h.starts).toEqual([
      ['c0', 0],
      ['reply', 10],
    ]);
    await h.timers.advance(400);
    expect(h.starts.map(([id]) => id)).toEqual(['c0', 'reply', 'c1']);
    await h.timers.advance(1500);
    expect(h.starts.map(([id]) => id)).toEqual(['c0', 'reply', 'c1', 'c2', 'c3', 'c4']);
    const campaignTimes = h.starts.filter(([id]) => id.startsWith('c')).map(([, t]) => t);
    expect(campaignTimes.every((t, i) => i === 0 || t - (campaignTimes[i - 1] as number) >= 500)).toBe(true);
  });

  it('holds at most `capacity` tasks and says when it is full', async () => {
    const h = harness({ capacity: 3, ratePerSecond: 1 });
    expect(['a', 'b', 'c', 'd'].map((id) => h.queue.add(h.task(id)))).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'full',
    ]);
    expect(h.queue.free).toBe(0);
    await h.timers.advance(0);
    expect(h.queue.size).toBe(2);
    expect(h.queue.free).toBe(1);
  });

  it('refuses a task id it already holds', () => {
    const h = harness();
    h.queue.pause();
    expect(h.queue.add(h.task('a'))).toBe('accepted');
    expect(h.queue.add(h.task('a'))).toBe('duplicate');
  });

  it('counts a task in size until its result has been handled', async () => {
    const h = harness();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const q = new PacingQueue<string>({
      ratePerSecond: 10,
      concurrency: 1,
      perRecipientIntervalMs: 0,
      capacity: 10,
      clock: h.clock,
      timers: h.timers,
      onSettled: () => gate,
    });
    q.add(h.task('a'));
    await h.timers.advance(0);
    expect(h.starts).toHaveLength(1);
    expect(q.size).toBe(1);
    release();
    await q.onIdle();
    expect(q.size).toBe(0);
  });

  it('starts nothing while paused and resumes where it stopped', async () => {
    const h = harness({ ratePerSecond: 2 });
    for (let i = 0; i < 4; i++) h.queue.add(h.task(`t${i}`));
    await h.timers.advance(500);
    expect(h.starts).toHaveLength(2);
    h.queue.pause();
    await h.timers.advance(5000);
    expect(h.starts).toHaveLength(2);
    expect(h.queue.size).toBe(2);
    h.queue.resume();
    await h.timers.advance(500);
    expect(h.starts).toHaveLength(4);
  });

  it('lowers the rate at run time without a burst from the starts already made', async () => {
    const h = harness({ ratePerSecond: 100, concurrency: 4 });
    for (let i = 0; i < 12; i++) h.queue.add(h.task(`t${i}`));
    await h.timers.advance(90);
    expect(h.starts).toHaveLength(10); // 0, 10, ..., 90 ms
    h.queue.setRate(1);
    // One per second now, and the start at 90 ms still counts: the next waits until 1090 ms.
    await h.timers.advance(999);
    expect(h.starts).toHaveLength(10);
    await h.timers.advance(1);
    expect(h.starts).toHaveLength(11);
    await h.timers.advance(999);
    expect(h.starts).toHaveLength(11);
    await h.timers.advance(1);
    expect(h.starts).toHaveLength(12);
  });

  it('on close waits for running sends and hands back the ones that never started', async () => {
    const h = harness({ ratePerSecond: 1, perRecipientIntervalMs: 10_000, concurrency: 2 });
    let finish!: () => void;
    const slow: PacedTask<string> = {
      id: 'slow',
      priority: 'normal',
      run: () =>
        new Promise<string>((r) => {
          finish = () => r('late');
        }),
    };
    h.queue.add(slow);
    h.queue.add(h.task('rate-limited'));
    h.queue.add(h.task('paced-1', { recipient: 'A' }));
    await h.timers.advance(0);
    const closing = h.queue.close(5000);
    expect(h.queue.add(h.task('after-close'))).toBe('closed');
    finish();
    const result = await closing;
    expect(result.stillRunning).toBe(0);
    expect(result.unstarted.map((t) => t.id).sort()).toEqual(['paced-1', 'rate-limited']);
    expect(h.settled.map(([id]) => id)).toEqual(['slow']);
    expect(h.queue.size).toBe(0);
    await h.timers.advance(20_000);
    expect(h.starts.map(([id]) => id)).toEqual([]); // slow's run() records nothing; nothing else ran
  });

  it('gives up waiting for a hung send at the close timeout', async () => {
    const h = harness();
    h.queue.add({ id: 'hung', priority: 'normal', run: () => new Promise<string>(() => {}) });
    await h.timers.advance(0);
    const closing = h.queue.close(3000);
    await h.timers.advance(3000);
    expect(await closing).toEqual({ unstarted: [], stillRunning: 1 });
  });

  it('reports a throwing result handler and frees the slot anyway', async () => {
    const h = harness();
    const errors: unknown[] = [];
    const q = new PacingQueue<string>({
      ratePerSecond: 10,
      concurrency: 1,
      perRecipientIntervalMs: 0,
      capacity: 10,
      clock: h.clock,
      timers: h.timers,
      onSettled: () => {
        throw new Error('db down');
      },
      onError: (e) => errors.push(e),
    });
    q.add(h.task('a'));
    q.add(h.task('b'));
    await h.timers.advance(1000);
    expect(errors).toHaveLength(2);
    expect(h.starts).toHaveLength(2);
  });
});

describe('PacingQueues', () => {
  it('keeps one queue per phone number', async () => {
    const h = harness();
    const made: string[] = [];
    const queues = new PacingQueues<string>((id) => {
      made.push(id);
      return new PacingQueue<string>({
        ratePerSecond: 1,
        concurrency: 1,
        perRecipientIntervalMs: 0,
        capacity: 10,
        clock: h.clock,
        timers: h.timers,
        onSettled: () => {},
      });
    });
    expect(queues.for('111')).toBe(queues.for('111'));
    expect(queues.for('222')).not.toBe(queues.for('111'));
    expect(made).toEqual(['111', '222']);
    // Separate channels, separate rate windows: both start a send in the same second.
    queues.for('111').add(h.task('a'));
    queues.for('111').add(h.task('b'));
    queues.for('222').add(h.task('c'));
    await h.timers.advance(0);
    expect(h.starts.map(([id]) => id).sort()).toEqual(['a', 'c']);
    const closed = await queues.close(1000);
    expect(closed.unstarted.map((t) => t.id)).toEqual(['b']);
  });
});
