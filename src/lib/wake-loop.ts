// The run-until-idle loop every background worker shares (inbox processor, responder worker, sender):
// wake() starts a run if none is going, or asks the current run to go round once more, so a wake that
// arrives mid-run is never lost and two runs never overlap.

export interface WakeLoop {
  wake(): void;
  /** The run in progress, if any (await it to drain). */
  current(): Promise<void> | undefined;
  /** Resolves once no run is in progress (including runs started by wakes while waiting). */
  settled(): Promise<void>;
}

export function createWakeLoop(
  run: () => Promise<unknown>,
  options: { stopped: () => boolean; onError: (err: unknown) => void },
): WakeLoop {
  let running: Promise<void> | undefined;
  let again = false;
  return {
    wake() {
      if (options.stopped()) return;
      if (running) {
        again = true;
        return;
      }
      running = (async () => {
        do {
          again = false;
          await run();
        } while (again && !options.stopped());
      })()
        .catch(options.onError)
        .finally(() => {
          running = undefined;
        });
    },
    current: () => running,
    async settled() {
      while (running) await running;
    },
  };
}
