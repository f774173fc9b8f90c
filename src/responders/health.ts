// Whether the AI responder is failing right now, for the runtime status (`degraded` while it fails)
// and the logs. Holds the last error message, which never contains the API key.

export interface ResponderHealthView {
  failing: boolean;
  last_error: string | null;
  failing_since: number | null;
  consecutive_failures: number;
  last_success_at: number | null;
}

export interface ResponderHealth extends Readonly<ResponderHealthView> {
  recordSuccess(now: number): void;
  recordFailure(error: string, now: number): void;
  snapshot(): ResponderHealthView;
}

export function createResponderHealth(): ResponderHealth {
  const state: ResponderHealthView = {
    failing: false,
    last_error: null,
    failing_since: null,
    consecutive_failures: 0,
    last_success_at: null,
  };
  return {
    get failing() {
      return state.failing;
    },
    get last_error() {
      return state.last_error;
    },
    get failing_since() {
      return state.failing_since;
    },
    get consecutive_failures() {
      return state.consecutive_failures;
    },
    get last_success_at() {
      return state.last_success_at;
    },
    recordSuccess(now) {
      state.failing = false;
      state.failing_since = null;
      state.consecutive_failures = 0;
      state.last_success_at = now;
    },
    recordFailure(error, now) {
      if (!state.failing) state.failing_since = now;
      state.failing = true;
      state.last_error = error;
      state.consecutive_failures += 1;
    },
    snapshot() {
      return { ...state };
    },
  };
}
