// Builds dist/ once (the fault suite runs the built daemon), clears the previous run's scenario totals,
// and after every scenario ran merges and prints them.
import buildDist from '../helpers/global-setup.js';
import { clearScenarioTotals, mergeScenarioTotals } from './totals.js';

export default function setup(): () => void {
  buildDist();
  clearScenarioTotals();
  return () => {
    process.stdout.write(mergeScenarioTotals());
  };
}
