// Each running campaign's own rate cap (SPEC §7: "at the campaign's own rate cap, not above the
// channel's"). The sender attaches the campaign's limiter to each of its sends, so the pacing queue
// holds both windows, the channel's and the campaign's, and gives its slot back while the campaign
// must wait. Like the channel's cap, it is applied once more right before the request leaves, on a
// second window: the `sending` mark's commit time varies, which could bunch spaced sends together.
// A send names its campaign in biz_opaque_callback_data, which Meta also echoes on its statuses.
import { type Clock, systemClock } from '../lib/clock.js';
import { DEFAULT_WINDOW_SLACK_MS } from '../outbound/pacing-queue.js';
import { SlidingWindowLimiter, windowForRate } from '../outbound/rate-limiter.js';
import { rateSlotKey } from '../outbound/shared-rate.js';
import type { RateSlotKey } from '../store/rate-slots-repo.js';

const PREFIX = 'campaign:';

export function callbackDataFor(campaignId: string, recipientId: string): string {
  return `${PREFIX}${campaignId}:${recipientId}`;
}

export function campaignIdOf(callbackData: string | undefined | null): string | null {
  if (!callbackData?.startsWith(PREFIX)) return null;
  const rest = callbackData.slice(PREFIX.length);
  const end = rest.indexOf(':');
  return end > 0 ? rest.slice(0, end) : null;
}

interface Caps {
  rate: number;
  /** Where the pacing queue starts a send. */
  start: SlidingWindowLimiter;
  /** Where the request leaves. */
  dispatch: SlidingWindowLimiter;
}

export class CampaignLimiters {
  private readonly caps = new Map<string, Caps>();

  /** Real time: Meta counts real seconds (see SenderDeps.pacingClock). */
  constructor(private readonly clock: Clock = systemClock) {}

  /** The campaign's caps, made (or re-made for a new rate) on first use. */
  ensure(campaignId: string, ratePerSecond: number): void {
    const known = this.caps.get(campaignId);
    if (known && known.rate === ratePerSecond) return;
    const w = windowForRate(ratePerSecond);
    // Twice the channel's slack: a campaign send also passes the channel's dispatch gate after its
    // own, and the cap must hold where the API counts, a little later (bench/campaigns).
    const spec = { ...w, windowMs: w.windowMs + 2 * DEFAULT_WINDOW_SLACK_MS, spread: true };
    this.caps.set(campaignId, {
      rate: ratePerSecond,
      start: new SlidingWindowLimiter(spec),
      dispatch: new SlidingWindowLimiter(spec),
    });
  }

  /** The limiters a send must respect where it starts: its campaign's, for a campaign send. */
  forSend(callbackData: string | undefined | null): SlidingWindowLimiter[] {
    const caps = this.capsOf(callbackData);
    return caps ? [caps.start] : [];
  }

  /** The campaign's shared slot key (outbound/shared-rate.ts), for a campaign send with a known rate. */
  slotFor(callbackData: string | undefined | null): RateSlotKey[] {
    const id = campaignIdOf(callbackData);
    const caps = id ? this.caps.get(id) : undefined;
    return id && caps ? [rateSlotKey(`campaign:${id}`, caps.rate, 2 * DEFAULT_WINDOW_SLACK_MS)] : [];
  }

  /** Resolves when the campaign's window lets this request leave (at once for other sends). */
  async beforeDispatch(callbackData: string | undefined | null): Promise<void> {
    const caps = this.capsOf(callbackData);
    if (!caps) return;
    for (;;) {
      const now = this.clock.now();
      const wait = caps.dispatch.waitTime(now);
      if (wait <= 0) {
        caps.dispatch.record(now);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  forget(campaignId: string): void {
    this.caps.delete(campaignId);
  }

  private capsOf(callbackData: string | undefined | null): Caps | undefined {
    const id = campaignIdOf(callbackData);
    return id ? this.caps.get(id) : undefined;
  }
}
