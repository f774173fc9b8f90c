// Quiet hours (SPEC §6): a follow-up due inside them waits until they end. Windows may cross midnight
// (22:00–07:00) and are wall-clock times in an IANA zone, so daylight-saving changes move them in UTC.
// Intl only, no date library. Pure functions over epoch milliseconds.

export interface QuietHours {
  /** HH:MM, inclusive. */
  start: string;
  /** HH:MM, exclusive: at `end` sending is allowed again. */
  end: string;
  timezone: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at `instant`, in ms (east positive), to the whole second. */
export function zoneOffset(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const hour = parts.hour === 24 ? 0 : (parts.hour ?? 0); // older ICU spells midnight "24"
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    hour,
    parts.minute,
    parts.second,
  );
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

/** Milliseconds since local midnight at `instant` in `timeZone`. */
export function wallTimeOfDay(instant: number, timeZone: string): number {
  const local = instant + zoneOffset(instant, timeZone);
  return ((local % DAY) + DAY) % DAY;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether local wall time at `instant` falls inside the quiet window. start == end means no window. */
export function isQuiet(instant: number, quiet: QuietHours): boolean {
  const start = minutesOf(quiet.start) * MINUTE;
  const end = minutesOf(quiet.end) * MINUTE;
  if (start === end) return false;
  const t = wallTimeOfDay(instant, quiet.timezone);
  return start < end ? t >= start && t < end : t >= start || t < end;
}

/**
 * The earliest instant at or after `dueAt` outside quiet hours: `dueAt` itself when it is not quiet.
 *
 * From a quiet instant, assume the offset stays put and compute when the wall clock reaches `end`.
 * If the offset is the same there, no transition happened on the way (zones change offset at most
 * a few times a year) and that is the answer. Otherwise find the transition by bisection and go on
 * from it: spring-forward may jump the wall clock past `end` (the transition itself is the answer),
 * fall-back may put it back inside the window (then the next pass runs on the new offset).
 */
export function nextAllowedTime(dueAt: number, quiet: QuietHours | null | undefined): number {
  if (!quiet || !isQuiet(dueAt, quiet)) return dueAt;
  const endOfWindow = minutesOf(quiet.end) * MINUTE;
  let from = dueAt;
  for (let pass = 0; pass < 4; pass++) {
    const offset = zoneOffset(from, quiet.timezone);
    const untilEnd = (((endOfWindow - wallTimeOfDay(from, quiet.timezone)) % DAY) + DAY) % DAY;
    const candidate = from + untilEnd;
    if (zoneOffset(candidate, quiet.timezone) === offset) return candidate;
    const transition = firstInstantWithOtherOffset(from, candidate, offset, quiet.timezone);
    if (!isQuiet(transition, quiet)) return transition;
    from = transition;
  }
  // Unreachable for real zones; a bounded answer beats a loop.
  return from;
}

/**
 * The first whole minute in (from, to] whose offset differs from `offset`; offsets change on whole
 * minutes. Requires offset(from) == offset and offset(to) != offset.
 */
function firstInstantWithOtherOffset(from: number, to: number, offset: number, timeZone: string): number {
  let lo = Math.floor(from / MINUTE); // offset here is still `offset`
  let hi = Math.ceil(to / MINUTE); // offset here differs
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zoneOffset(mid * MINUTE, timeZone) === offset) lo = mid;
    else hi = mid;
  }
  return hi * MINUTE;
}
