// Each running campaign's own rate cap (SPEC §7: "at the campaign's own rate cap, not above the
// channel's"). The sender attaches the campaign's limiter to each of its sends, so the pacing queue
// holds both windows: the channel's and the campaign's. A send names its campaign in
// biz_opaque_callback_data, which Meta also echoes on every status of the message.
import { DEFAULT_WINDOW_SLACK_MS } from '../outbound/pacing-queue.js';
import { SlidingWindowLimiter, windowForRate } from '../outbound/rate-limiter.js';

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

export class CampaignLimiters {
  private readonly limiters = new Map<string, { rate: number; limiter: SlidingWindowLimiter }>();

  /** The campaign's limiter, made (or re-made for a new rate) on first use. */
  ensure(campaignId: string, ratePerSecond: number): SlidingWindowLimiter {
    const known = this.limiters.get(campaignId);
    if (known && known.rate === ratePerSecond) return known.limiter;
    const w = windowForRate(ratePerSecond);
    // The same slack as the channel's window: the cap must hold where the API counts, a bit later.
    const limiter = new SlidingWindowLimiter({
      ...w,
      windowMs: w.windowMs + DEFAULT_WINDOW_SLACK_MS,
      spread: true,
    });
    this.limiters.set(campaignId, { rate: ratePerSecond, limiter });
    return limiter;
  }

  /** The limiters a send must respect: its campaign's, when it is a campaign send we know. */
  forSend(callbackData: string | undefined | null): SlidingWindowLimiter[] {
    const id = campaignIdOf(callbackData);
    const known = id ? this.limiters.get(id) : undefined;
    return known ? [known.limiter] : [];
  }

  forget(campaignId: string): void {
    this.limiters.delete(campaignId);
  }
}
