// What makes the runtime `degraded` right now (SPEC §8 status): a channel stopped by an auth error,
// a transport failing repeatedly, the responder failing. Kept in memory by the parts that see it
// (sender, responder worker); the insights endpoint reads `view()`.
import type { ResponderHealth } from '../responders/health.js';

export interface ChannelProblem {
  phone_number_id: string;
  kind: 'auth' | 'failing';
  code: number | null;
  title: string;
  since: number;
}

export interface RuntimeHealthView {
  status: 'active' | 'degraded';
  /** One short sentence per problem, for the summary. */
  reasons: string[];
  channels: ChannelProblem[];
  responder: { failing: boolean; last_error: string | null; failing_since: number | null } | null;
}

export interface RuntimeHealth {
  channelProblem(problem: ChannelProblem): void;
  channelOk(phoneNumberId: string): void;
  /** Channels stopped until credentials change. */
  stoppedChannels(): string[];
  setResponderHealth(health: ResponderHealth | null): void;
  /** Event subscriptions failing now (SPEC §11): one reason each, naming it; [] when none. */
  setSubscriptionProblems(reasons: string[]): void;
  view(): RuntimeHealthView;
}

export function createRuntimeHealth(): RuntimeHealth {
  const channels = new Map<string, ChannelProblem>();
  let responder: ResponderHealth | null = null;
  let subscriptions: string[] = [];
  return {
    channelProblem(problem) {
      const old = channels.get(problem.phone_number_id);
      channels.set(
        problem.phone_number_id,
        old && old.kind === problem.kind ? { ...problem, since: old.since } : problem,
      );
    },
    channelOk(phoneNumberId) {
      channels.delete(phoneNumberId);
    },
    stoppedChannels() {
      return [...channels.values()].filter((c) => c.kind === 'auth').map((c) => c.phone_number_id);
    },
    setResponderHealth(health) {
      responder = health;
    },
    setSubscriptionProblems(reasons) {
      subscriptions = reasons;
    },
    view() {
      const reasons: string[] = [];
      for (const c of channels.values()) {
        reasons.push(
          c.kind === 'auth'
            ? `sending on ${c.phone_number_id} is stopped: ${c.title}${c.code === null ? '' : ` (${c.code})`}; update the credentials`
            : `sends on ${c.phone_number_id} keep failing: ${c.title}`,
        );
      }
      const r = responder?.snapshot() ?? null;
      if (r?.failing)
        reasons.push(
          `the AI responder is failing (${r.last_error ?? 'unknown error'}); replies fall back to rules`,
        );
      reasons.push(...subscriptions);
      return {
        status: reasons.length > 0 ? 'degraded' : 'active',
        reasons,
        channels: [...channels.values()],
        responder: r
          ? { failing: r.failing, last_error: r.last_error, failing_since: r.failing_since }
          : null,
      };
    },
  };
}
