/**
 * Time zones as mongod 7.0's TimeZone and TimeZoneDatabase (src/mongo/db/query/datetime/
 * date_time_support.cpp) and the timelib functions they call (src/third_party/timelib:
 * unixtime2tm.c, tm2unixtime.c do_adjust_timezone, parse_tz.c).
 *
 * A zone is mongod's UTC zone ("UTC", or an offset of zero such as "+00"), a fixed UTC offset
 * ("+05:30", "-0800", "+03": ±HH, ±HHMM or ±HH:MM, digits unchecked, as parseUtcOffset reads
 * them) or an Olson identifier of timelib's database (timeZoneNames.ts). Olson zones take their
 * rules from the ICU time zone data that Node ships, read through Intl.DateTimeFormat: the offset at
 * an instant is the "longOffset" time zone name (GMT±hh:mm[:ss]), one cached formatter per zone.
 * Where the two databases disagree (a rule change newer than one of them, or pre-1970 history that
 * the tz database folded into links) the answers follow ICU's data.
 *
 * Local time → UTC (createFromDateParts, fromString, dateAdd) follows timelib's do_adjust_timezone:
 * a local time inside a spring-forward gap moves forward by the gap (02:30 → 03:30 daylight time),
 * an ambiguous local time of a fall-back is the later, standard-time instant. timelib's "is_dst"
 * flag, which that rule consults, is taken as "the offset is above the smaller of the year's
 * January and July offsets"; timelib's transition times are found by searching the offsets within
 * two days of the instant, the only distances that rule compares.
 */
import { LocationCodes } from '../../errors.js';
import { fail, refuse } from './node.js';
import { TIME_ZONE_NAMES } from './timeZoneNames.js';
import { coerceToDateMillis, dateParts, nullish, typeName, type DateParts } from './values.js';

/** 'utc': mongod's UTC zone; 'offset': a fixed non-zero offset; 'olson': an identifier with rules. */
export type ZoneKind = 'utc' | 'offset' | 'olson';

export interface TimeZone {
  readonly kind: ZoneKind;
  /** The UTC offset, in seconds, at an instant given in seconds since the epoch. */
  offsetAt(seconds: number): number;
  /** timelib's is_dst of the offset in force at the instant. */
  isDstAt(seconds: number): boolean;
  /**
   * The start of the period of constant offset that contains the instant (timelib's transition
   * time), or -Infinity when it began more than two days earlier.
   */
  periodStart(seconds: number): number;
}

/** The largest magnitude of milliseconds a JavaScript Date (and so Intl) holds. */
export const MAX_DATE_MS = 8.64e15;

/** The refusal of a date mongod can represent and a JavaScript Date cannot. */
export function outOfDateRange(): Error {
  return refuse('dates outside the range of a JavaScript Date (±8.64e15 ms)');
}

class FixedZone implements TimeZone {
  constructor(
    readonly kind: ZoneKind,
    private readonly offset: number,
  ) {}
  offsetAt(): number {
    return this.offset;
  }
  isDstAt(): boolean {
    return false;
  }
  periodStart(): number {
    return -Infinity;
  }
}

const SECONDS_PER_DAY = 86400;
/** How far back periodStart looks, in steps of STEP seconds (two days). */
const STEP = 6 * 3600;
const STEPS = 8;

/**
 * Offsets are cached per span of BUCKET seconds: no zone of the tz database changes its offset twice
 * within three days (the closest changes are 3.99 days apart), so a span whose first and last
 * seconds share an offset keeps it throughout, and any other span holds exactly one transition,
 * found once by bisection.
 */
const BUCKET = 2 * SECONDS_PER_DAY;
const MAX_BUCKETS = 100000;

interface SplitBucket {
  readonly at: number;
  readonly before: number;
  readonly after: number;
}

class OlsonZone implements TimeZone {
  readonly kind = 'olson';
  private readonly format: Intl.DateTimeFormat;
  private readonly buckets = new Map<number, number | SplitBucket>();
  /** Standard (smaller of January's and July's) offset per UTC year. */
  private readonly standard = new Map<number, number>();

  constructor(name: string) {
    this.format = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
  }

  offsetAt(seconds: number): number {
    const bucket = Math.floor(seconds / BUCKET);
    let known = this.buckets.get(bucket);
    if (known === undefined) {
      known = this.learn(bucket);
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.clear();
      this.buckets.set(bucket, known);
    }
    if (typeof known === 'number') return known;
    return seconds < known.at ? known.before : known.after;
  }

  private learn(bucket: number): number | SplitBucket {
    // Clamped to the seconds a JavaScript Date holds.
    let lo = Math.max(bucket * BUCKET, -MAX_DATE_MS / 1000);
    let hi = Math.min(bucket * BUCKET + BUCKET - 1, MAX_DATE_MS / 1000);
    const before = this.icuOffset(lo);
    const after = this.icuOffset(hi);
    if (before === after) return before;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.icuOffset(mid) === before) lo = mid;
      else hi = mid;
    }
    return { at: hi, before, after };
  }

  private icuOffset(seconds: number): number {
    const ms = seconds * 1000;
    if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) throw outOfDateRange();
    return parseGmtOffset(this.format.format(ms));
  }

  isDstAt(seconds: number): boolean {
    return this.offsetAt(seconds) > this.standardOffset(seconds);
  }

  periodStart(seconds: number): number {
    const offset = this.offsetAt(seconds);
    let hi = seconds;
    for (let k = 1; k <= STEPS; k++) {
      let lo = seconds - k * STEP;
      if (this.offsetAt(lo) !== offset) {
        // One transition lies in (lo, hi]: the first second with the later offset.
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.offsetAt(mid) === offset) hi = mid;
          else lo = mid;
        }
        return hi;
      }
      hi = lo;
    }
    return -Infinity;
  }

  private standardOffset(seconds: number): number {
    const year = new Date(seconds * 1000).getUTCFullYear();
    let s = this.standard.get(year);
    if (s === undefined) {
      const jan = new Date(0).setUTCFullYear(year, 0, 1) / 1000;
      const jul = new Date(0).setUTCFullYear(year, 6, 1) / 1000;
      s = Math.min(this.offsetAt(jan), this.offsetAt(jul));
      this.standard.set(year, s);
    }
    return s;
  }
}

/** "GMT", "GMT+05:30", "GMT-04:56:02" → seconds. */
function parseGmtOffset(text: string): number {
  const at = text.lastIndexOf('GMT');
  if (at < 0 || at + 3 === text.length) return 0;
  const sign = text[at + 3] === '-' || text[at + 3] === '\u2212' ? -1 : 1;
  const h = Number(text.slice(at + 4, at + 6));
  const m = Number(text.slice(at + 7, at + 9));
  const s = text.length > at + 9 ? Number(text.slice(at + 10, at + 12)) : 0;
  return sign * (h * 3600 + m * 60 + s);
}

export const UTC_ZONE: TimeZone = new FixedZone('utc', 0);

/** timelib's "Factory" zone (offset 0, no rules), which ICU does not have. */
const FACTORY_ZONE: TimeZone = new FixedZone('olson', 0);

const zones = new Map<string, TimeZone>();

/** TimeZoneDatabase::parseUtcOffset: ±HH, ±HHMM, ±HH:MM (seconds), or undefined. */
function parseUtcOffset(spec: string): number | undefined {
  const m = /^([+-])(?:(\d\d)|(\d\d)(\d\d)|(\d\d):(\d\d))$/.exec(spec);
  if (m === null) return undefined;
  const bias = m[1] === '-' ? -1 : 1;
  if (m[2] !== undefined) return bias * Number(m[2]) * 3600;
  const hours = Number(m[3] ?? m[5]);
  const minutes = Number(m[4] ?? m[6]);
  return bias * (hours * 3600 + minutes * 60);
}

/** TimeZoneDatabase::getTimeZone: 40485 for an unknown identifier. */
export function getTimeZone(id: string): TimeZone {
  const known = zones.get(id);
  if (known !== undefined) return known;
  let zone: TimeZone;
  if (id === 'UTC') zone = UTC_ZONE;
  else if (id === 'Factory') zone = FACTORY_ZONE;
  else if (TIME_ZONE_NAMES.has(id)) zone = new OlsonZone(id);
  else {
    const offset = parseUtcOffset(id);
    if (offset === undefined) throw fail(LocationCodes.TimezoneUnknown, `unrecognized time zone identifier: "${id}"`);
    zone = offset === 0 ? UTC_ZONE : new FixedZone('offset', offset);
  }
  zones.set(id, zone);
  return zone;
}

/**
 * The UTC instant (seconds) of a local wall-clock time given as seconds since the epoch read as
 * UTC: timelib's do_adjust_timezone. `dst` is the time's own is_dst flag (timelib_set_timezone's,
 * taken at the epoch for a new time, or at the original instant for dateAdd).
 */
export function localToUtc(zone: TimeZone, local: number, dst: boolean): number {
  if (zone.kind !== 'olson') return local - zone.offsetAt(local);
  const current = zone.offsetAt(local);
  const after = zone.offsetAt(local - current);
  let actual = after;
  let actualStart: number | undefined;
  if (current === after) {
    if (current >= 0 && dst && !zone.isDstAt(local)) {
      const earlierAt = local - current - 7200;
      const earlier = zone.offsetAt(earlierAt);
      if (earlier !== after && local - earlier < zone.periodStart(local - current)) {
        actual = earlier;
        actualStart = zone.periodStart(earlierAt);
      }
    } else if (current <= 0 && !dst && zone.isDstAt(local)) {
      const laterAt = local - current + 7200;
      const later = zone.offsetAt(laterAt);
      if (later !== after) {
        const laterStart = zone.periodStart(laterAt);
        if (local - later >= laterStart) {
          actual = later;
          actualStart = laterStart;
        }
      }
    }
  }
  if (current === actual) return local - current;
  const start = actualStart ?? zone.periodStart(local - current);
  const inTransition = local - actual >= start + (current - actual) && local - actual < start;
  return inTransition ? local - current : local - actual;
}

/** The is_dst flag timelib_set_timezone gives a new time (taken at the epoch). */
export function epochDst(zone: TimeZone): boolean {
  return zone.kind === 'olson' && zone.isDstAt(0);
}

/** makeTimeZone: no argument is UTC, a nullish one null (the expression's result), else a name. */
export function makeTimeZone(value: unknown): TimeZone | null {
  if (nullish(value)) return null;
  if (typeof value !== 'string') throw fail(LocationCodes.TimezoneNotString, `timezone must evaluate to a string, found ${typeName(value)}`);
  return getTimeZone(value);
}

// ---------------------------------------------------------------------------------------------
// Local time

/** A date's wall-clock fields in a zone, with timelib's z (offset, seconds). */
export interface LocalTime {
  readonly parts: DateParts;
  readonly offset: number;
}

/** TimeZone::getTimelibTime: the fields at the date's whole second (rounded down), its milliseconds. */
export function localTime(zone: TimeZone, ms: number): LocalTime {
  if (zone.kind === 'utc') return { parts: dateParts(ms), offset: 0 };
  const offset = zone.offsetAt(Math.floor(ms / 1000));
  return { parts: dateParts(ms + offset * 1000), offset };
}

/** timelib's dst of a time made by getTimelibTime (unixtime2local). */
export function localDst(zone: TimeZone, ms: number): boolean {
  return zone.kind === 'olson' && zone.isDstAt(Math.floor(ms / 1000));
}

/** TimeZone::utcOffset: the offset (seconds) at the date's second rounded toward zero. */
export function utcOffset(zone: TimeZone, ms: number): number {
  return zone.offsetAt(Math.trunc(ms / 1000));
}

/** Value::coerceToDate as milliseconds, refusing dates a JavaScript Date does not hold. */
export function dateMillis(v: unknown): number {
  const ms = coerceToDateMillis(v);
  if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) throw outOfDateRange();
  return ms;
}

/** A result date, refused when it lies outside the range of a JavaScript Date. */
export function resultDate(ms: number): Date {
  if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) throw outOfDateRange();
  return new Date(ms);
}
