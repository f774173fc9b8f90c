// Property tests draw new inputs on every local run, which is how they find new counterexamples. In CI
// (CI=true) every property uses one fixed seed, so a commit lands or fails on its own merits and not
// on a draw; `npm run test:fuzz` and local runs keep exploring. FUZZ_SEED replays any reported run.
import fc from 'fast-check';

const seed = process.env.FUZZ_SEED ?? (process.env.CI === 'true' ? '20261125' : undefined);
if (seed !== undefined && Number.isFinite(Number(seed))) fc.configureGlobal({ seed: Number(seed) });
