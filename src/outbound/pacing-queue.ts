// The paced send queue of one business phone number (SPEC §5): a p-queue for the concurrency cap and
// priorities (high > normal > low > bulk: replies before campaign sends), our own sliding-window
// limiter for `rate_per_second` (never exceeded in any window, starts spread evenly over it, timed
// by the injected clock), and the per-recipient pacing guard. It holds a bounded number of tasks:
// the database is the real queue; callers claim rows in batches and feed them while `free` > 0.
// Over 300 lines: the queue, its rate window and the per-recipient guard keep one invariant together
// (never over the rate in any window, nothing lost on stop).
import PQueue from 'p-queue';
import type { Clock } from '../lib/clock.js';
import { RecipientPacer, SlidingWindowLimiter, windowForRate } from './rate-limiter.js';

/** See PacingQueueOptions.windowSlackMs. */
export const DEFAULT_WINDOW_SLACK_MS = 25;

export type QueuePriority = 'high' | 'normal' | 'low' | 'bulk';

/** p-queue runs greater numbers first. `bulk` is for campaign sends: below even a low-priority reply. */
export const PRIORITY_RANK: Record<QueuePriority, number> = { high: 3, normal: 2, low: 1, bulk: 0 };

export interface PacedTask<R> {
  /** Unique while queued (the outbox row id); a second add with the same id is refused. */
  id: string;
  priority: QueuePriority;
  /** Pacing key of the customer (transports/transport.ts recipientKey); none = not paced per recipient. */
  recipient?: string;
  /** Further windows this task must respect, e.g. a campaign's own rate cap (SPEC §7). */
  limiters?: readonly SlidingWindowLimiter[];
  /** The send. Its start is what the rate cap counts. */
  run(): Promise<R>;
}

export type TaskOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export type AddResult = 'accepted' | 'full' | 'duplicate' | 'closed';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface PacingQueueOptions<R> {
  ratePerSecond: number;
  concurrency: number;
  /** Minimum time between two sends to one recipient; 0 turns the guard off. */
  perRecipientIntervalMs: number;
  /** Most tasks held at once (queued, waiting for pacing, or running). */
  capacity: number;
  clock: Clock;
  /**
   * Called once per task that ran, inside its concurrency slot, before the task leaves `size`: write
   * the result to the database here, so a feeder never sees room for a row whose result is unsaved.
   */
  onSettled(task: PacedTask<R>, outcome: TaskOutcome<R>): void | Promise<void>;
  /** A throwing onSettled ends up here (it must not take the queue down). */
  onError?(error: unknown, task: PacedTask<R>): void;
  /**
   * Added to the rate window (default 25 ms). The cap is enforced where a send starts; requests reach
   * the API a little later and not all equally late, so the slack keeps the cap true as the API
   * counts it (measured: 80/s stays at most 80 in every window at the fake Graph API, ~78/s achieved).
   */
  windowSlackMs?: number;
  timers?: Timers;
}

interface Entry<R> {
  task: PacedTask<R>;
  started: boolean;
}

export interface CloseResult<R> {
  /** Tasks that never started; their rows are still `queued` for the next run. */
  unstarted: PacedTask<R>[];
  /** Tasks still running when the timeout passed. */
  stillRunning: number;
}

export class PacingQueue<R> {
  private readonly options: PacingQueueOptions<R>;
  private readonly timers: Timers;
  private readonly pq: PQueue;
  private limiter: SlidingWindowLimiter;
  private readonly pacer: RecipientPacer;
  private readonly held = new Map<string, Entry<R>>();
  private readonly deferred = new Map<string, unknown>();
  private running = 0;
  private gate: Promise<void> = Promise.resolve();
  private paused = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private runningWaiters: (() => void)[] = [];

  constructor(options: PacingQueueOptions<R>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError('capacity must be a positive integer');
    }
    this.options = options;
    this.timers = options.timers ?? realTimers;
    this.pq = new PQueue({ concurrency: options.concurrency });
    this.limiter = new SlidingWindowLimiter(this.windowFor(options.ratePerSecond));
    this.pacer = new RecipientPacer(options.perRecipientIntervalMs);
  }

  /** Tasks held: queued, waiting for pacing, or running. */
  get size(): number {
    return this.held.size;
  }

  /** How many more tasks add() accepts now. */
  get free(): number {
    return this.closed ? 0 : Math.max(0, this.options.capacity - this.held.size);
  }

  /** Tasks whose send is in progress. */
  get active(): number {
    return this.running;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  add(task: PacedTask<R>): AddResult {
    if (this.closed) return 'closed';
    if (this.held.has(task.id)) return 'duplicate';
    if (this.held.size >= this.options.capacity) return 'full';
    const entry: Entry<R> = { task, started: false };
    this.held.set(task.id, entry);
    this.enqueue(entry);
    return 'accepted';
  }

  /** Stop starting sends (auth failure on the channel, runtime paused); held tasks stay held. */
  pause(): void {
    this.paused = true;
    this.pq.pause();
  }

  resume(): void {
    if (this.closed) return;
    this.paused = false;
    this.pq.start();
  }

  /** Change the rate cap at run time; the starts already made still count against the new cap. */
  setRate(ratePerSecond: number): void {
    this.limiter = this.limiter.withLimit(this.windowFor(ratePerSecond));
  }

  /** Resolves when no task is held. */
  onIdle(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stop accepting and starting tasks, wait up to `timeoutMs` for running sends to finish, and hand
   * back the tasks that never started.
   */
  async close(timeoutMs: number): Promise<CloseResult<R>> {
    this.closed = true;
    this.pq.pause();
    this.pq.clear();
    for (const handle of this.deferred.values()) this.timers.clearTimeout(handle);
    this.deferred.clear();
    if (this.running > 0) {
      let timer: unknown;
      await Promise.race([
        new Promise<void>((resolve) => this.runningWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = this.timers.setTimeout(resolve, timeoutMs);
        }),
      ]);
      this.timers.clearTimeout(timer);
    }
    const unstarted: PacedTask<R>[] = [];
    for (const [id, entry] of this.held) {
      if (entry.started) continue;
      unstarted.push(entry.task);
      this.held.delete(id);
    }
    this.notifyIdle();
    return { unstarted, stillRunning: this.running };
  }

  private windowFor(ratePerSecond: number) {
    const w = windowForRate(ratePerSecond);
    return {
      limit: w.limit,
      windowMs: w.windowMs + (this.options.windowSlackMs ?? DEFAULT_WINDOW_SLACK_MS),
      spread: true,
    };
  }

  private enqueue(entry: Entry<R>): void {
    // attempt() never rejects; the catch only keeps a cleared p-queue promise from being "unhandled".
    this.pq.add(() => this.attempt(entry), { priority: PRIORITY_RANK[entry.task.priority] }).catch(() => {});
  }

  private defer(entry: Entry<R>, ms: number): void {
    const handle = this.timers.setTimeout(() => {
      this.deferred.delete(entry.task.id);
      if (!this.closed) this.enqueue(entry);
    }, ms);
    this.deferred.set(entry.task.id, handle);
  }

  /** Runs in a p-queue slot: pass the channel's rate gate, then send. */
  private async attempt(entry: Entry<R>): Promise<void> {
    if (!(await this.passGate(entry))) return;
    const { task } = entry;
    entry.started = true;
    this.running += 1;
    let outcome: TaskOutcome<R>;
    try {
      outcome = { ok: true, value: await task.run() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    try {
      await this.options.onSettled(task, outcome);
    } catch (error) {
      this.options.onError?.(error, task);
    }
    this.running -= 1;
    if (this.held.get(task.id) === entry) this.held.delete(task.id);
    if (this.running === 0) this.notifyRunning();
    this.notifyIdle();
  }

  /**
   * Tasks in slots take the channel's rate window one at a time, in the order p-queue started them
   * (its priority order), so sleepers never race each other for a start. Every task needs the
   * channel window, so waiting for it in a slot costs nobody a turn. True when the task may send now.
   */
  private async passGate(entry: Entry<R>): Promise<boolean> {
    const previous = this.gate;
    let release!: () => void;
    this.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    try {
      const { task } = entry;
      for (;;) {
        if (this.closed) return false; // left unstarted: close() hands it back
        if (this.paused) {
          this.enqueue(entry); // back into the paused p-queue, keeping its priority
          return false;
        }
        const now = this.options.clock.now();
        const channelWait = this.limiter.waitTime(now);
        if (channelWait > 0) {
          await this.sleep(channelWait);
          continue;
        }
        // Waits that only concern this task give the slot back, so a paced recipient or a slow
        // campaign never holds up a reply to someone else.
        let ownWait = task.recipient === undefined ? 0 : this.pacer.waitTime(task.recipient, now);
        for (const l of task.limiters ?? []) ownWait = Math.max(ownWait, l.waitTime(now));
        if (ownWait > 0) {
          this.defer(entry, ownWait);
          return false;
        }
        this.limiter.record(now);
        for (const l of task.limiters ?? []) l.record(now);
        if (task.recipient !== undefined) this.pacer.record(task.recipient, now);
        return true;
      }
    } finally {
      release();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timers.setTimeout(resolve, ms));
  }

  private notifyIdle(): void {
    if (this.held.size !== 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private notifyRunning(): void {
    const waiters = this.runningWaiters;
    this.runningWaiters = [];
    for (const w of waiters) w();
  }
}

/** One PacingQueue per business phone number, made on first use. */
export class PacingQueues<R> {
  private readonly queues = new Map<string, PacingQueue<R>>();

  constructor(private readonly make: (phoneNumberId: string) => PacingQueue<R>) {}

  for(phoneNumberId: string): PacingQueue<R> {
    let q = this.queues.get(phoneNumberId);
    if (!q) {
      q = this.make(phoneNumberId);
      this.queues.set(phoneNumberId, q);
    }
    return q;
  }

  all(): IterableIterator<[string, PacingQueue<R>]> {
    return this.queues.entries();
  }

  /** Close every queue with one shared timeout; the unstarted tasks of all of them. */
  async close(timeoutMs: number): Promise<CloseResult<R>> {
    const results = await Promise.all([...this.queues.values()].map((q) => q.close(timeoutMs)));
    return {
      unstarted: results.flatMap((r) => r.unstarted),
      stillRunning: results.reduce((n, r) => n + r.stillRunning, 0),
    };
  }
}
