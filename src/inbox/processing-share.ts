// How much of the event loop the inbox processor may take while deliveries keep arriving. A burst is
// accepted at full speed (the processor keeps to its base share) and applied once it ends. But when
// the backlog nears the bound past which webhooks are shed (inbox.backlog_threshold ×
// load.backlog_shed_factor), accepting faster than the daemon applies only means shedding later: the
// share rises with the backlog, up to `max`, so that under sustained overload the daemon settles where
// it accepts what it applies instead of accepting at the processing rate of its base share.

export interface ShareOptions {
  /** The share while the backlog is small. */
  base: number;
  /**
   * The share at the bound. Under load without quiet gaps the processor gets share / (2 − share) of
   * the loop (lib/yield-to-ingress.ts): 0.9 gives about 0.82, what applying needs to keep pace with
   * accepting (a delivery costs about three times as much to apply as to accept).
   */
  max: number;
  /** The fraction of the bound where the share starts to rise. */
  from: number;
}

export const DEFAULT_SHARE: ShareOptions = { base: 0.3, max: 0.9, from: 0.75 };

export function processingShare(
  pending: number,
  bound: number,
  options: ShareOptions = DEFAULT_SHARE,
): number {
  if (!(bound > 0)) return options.base;
  const fill = Math.min(1, Math.max(0, pending / bound));
  if (fill <= options.from) return options.base;
  const pressure = (fill - options.from) / (1 - options.from);
  return options.base + (options.max - options.base) * pressure;
}
