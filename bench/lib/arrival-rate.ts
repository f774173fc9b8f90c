// The send rate a fake Cloud API saw: arrival times (ms) → achieved rate and the most arrivals in any
// one-second window (what a rate cap promises never to exceed).
import { round } from './round.js';

export interface ArrivalRate {
  messages: number;
  seconds: number;
  achieved_rate_per_second: number;
  max_in_any_one_second_window: number;
}

export function arrivalRate(arrivals: readonly number[]): ArrivalRate {
  const times = [...arrivals].sort((a, b) => a - b);
  let worst = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++;
    worst = Math.max(worst, i - j + 1);
  }
  const seconds = times.length > 1 ? ((times.at(-1) as number) - (times[0] as number)) / 1000 : 0;
  return {
    messages: times.length,
    seconds: round(seconds),
    achieved_rate_per_second: seconds > 0 ? round((times.length - 1) / seconds) : 0,
    max_in_any_one_second_window: worst,
  };
}
