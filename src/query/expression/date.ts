/**
 * Date expressions as mongod 7.0 evaluates them (src/mongo/db/pipeline/expression.cpp and
 * expression.h: DateExpressionAcceptingTimeZone, ExpressionDateToString, ExpressionDateToParts,
 * ExpressionDateFromParts; src/mongo/db/query/datetime/date_time_support.h/.cpp: TimeZone's
 * dateParts, formatDate, createFromDateParts): $year $month $dayOfMonth $hour $minute $second
 * $millisecond $dayOfWeek $dayOfYear $week $isoWeek $isoWeekYear $isoDayOfWeek $dateToString
 * $dateToParts $dateFromParts, with $dateFromString (dateFromString.ts) and $dateAdd $dateSubtract
 * $dateDiff $dateTrunc (dateArithmetic.ts) joined into the family's table.
 *
 * Time zones (timeZone.ts) are UTC, fixed offsets and Olson identifiers with their rules. The date
 * argument is coerced as Value::coerceToDate does (dates, timestamps, ObjectIds; else 16006). 7.0
 * evaluates a timezone per document even when it is a constant: an unknown one (40485) fails only
 * when a document is evaluated. The extractors name themselves when the timezone is not a string
 * (40533); the other operators use makeTimeZone's 40517. $isoWeekYear is a long (TimeZone::isoYear
 * is a long long), every other extracted part an int. $dateToString without a format writes
 * "%Y-%m-%dT%H:%M:%S.%LZ" in every zone (7.0 writes the "Z" after local times too); %Z is the
 * offset in minutes without a sign for positive offsets. %b and %B, which 7.0's release notes and
 * sources disagree on for $dateToString, are refused with 115.
 */
import { Int32, Long } from 'bson';
import { LocationCodes } from '../../errors.js';
import { coerceToLong } from '../numeric.js';
import { dateArithmeticOperators } from './dateArithmetic.js';
import { dateFromStringOperators } from './dateFromString.js';
import {
  computed,
  fail,
  isArgumentObject,
  refuse,
  type Evaluate,
  type Node,
  type OperatorTable,
  type ParseContext,
} from './node.js';
import {
  dateMillis,
  epochDst,
  getTimeZone,
  localToUtc,
  localTime,
  makeTimeZone,
  outOfDateRange,
  resultDate,
  utcOffset,
  UTC_ZONE,
  type LocalTime,
  type TimeZone,
} from './timeZone.js';
import { dateParts, daysFromCivil, integral64Bit, nullish, objText, typeName, valueText, type DateParts } from './values.js';

// ---------------------------------------------------------------------------------------------
// Calendar (timelib dow.c)

/** 1 (Sunday) .. 7 (Saturday). */
function dayOfWeek(p: DateParts): number {
  return ((((p.days + 4) % 7) + 7) % 7) + 1;
}

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** 1 .. 366. */
function dayOfYear(p: DateParts): number {
  return CUMULATIVE_DAYS[p.month - 1]! + p.day + (p.month > 2 && isLeap(p.year) ? 1 : 0);
}

/** 1 (Monday) .. 7 (Sunday). */
function isoDayOfWeek(p: DateParts): number {
  const d = dayOfWeek(p) - 1; // 0 = Sunday
  return d === 0 ? 7 : d;
}

/** TimeZone::week: the week of the year, weeks beginning on Sunday, 0 .. 53. */
function week(p: DateParts): number {
  const weekDay = dayOfWeek(p) - 1;
  const yearDay = dayOfYear(p) - 1;
  return Math.floor((yearDay - weekDay + 7) / 7);
}

/** ISO 8601 week-numbering year and week. */
function isoWeekAndYear(p: DateParts): { year: number; week: number } {
  // The Thursday of the same ISO week decides the year.
  const thursday = dateParts((p.days - (isoDayOfWeek(p) - 1) + 3) * 86400000);
  return { year: thursday.year, week: Math.floor((dayOfYear(thursday) - 1) / 7) + 1 };
}

// ---------------------------------------------------------------------------------------------
// Extractors (DateExpressionAcceptingTimeZone)

type Extract = (t: LocalTime) => unknown;

/** parseDateExpressionAcceptingTimeZone: a date, [date], or {date, timezone}. */
function parseDateArgument(arg: unknown, ctx: ParseContext, op: string): { date: Node; timezone: Node | undefined } {
  if (isArgumentObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length > 0 && keys[0]!.startsWith('$')) return { date: ctx.parse(arg), timezone: undefined };
    let date: Node | undefined;
    let timezone: Node | undefined;
    for (const k of keys) {
      if (k === 'date') date = ctx.parse(arg[k]);
      else if (k === 'timezone') timezone = ctx.parse(arg[k]);
      else throw fail(LocationCodes.DateUnknownOption, `unrecognized option to ${op}: "${k}"`);
    }
    if (date === undefined) throw fail(LocationCodes.DateMissingDate, `missing 'date' argument to ${op}, provided: ${op}: ${objText(arg)}`);
    return { date, timezone };
  }
  if (Array.isArray(arg)) {
    if (arg.length !== 1) {
      throw fail(LocationCodes.DateArrayArity, `${op} accepts exactly one argument if given an array, but was given ${arg.length}`);
    }
    return { date: ctx.parse(arg[0]), timezone: undefined };
  }
  return { date: ctx.parse(arg), timezone: undefined };
}

function extractor(extract: Extract) {
  return (arg: unknown, ctx: ParseContext, op: string): Node => {
    const { date, timezone } = parseDateArgument(arg, ctx, op);
    const dateEval = date.evaluate;
    const tzEval = timezone?.evaluate;
    return computed(
      (s) => {
        const v = dateEval(s);
        if (nullish(v)) return null;
        const ms = dateMillis(v);
        let zone = UTC_ZONE;
        if (tzEval !== undefined) {
          const id = tzEval(s);
          if (nullish(id)) return null;
          if (typeof id !== 'string') {
            throw fail(
              LocationCodes.DateTimezoneNotString,
              `${op} requires a string for the timezone argument, but was given a ${typeName(id)} (${valueText(id)})`,
            );
          }
          zone = getTimeZone(id);
        }
        return extract(localTime(zone, ms));
      },
      [date, timezone],
    );
  };
}

const int = (f: (p: DateParts) => number): Extract => (t) => new Int32(f(t.parts));

// ---------------------------------------------------------------------------------------------
// $dateToString (TimeZone::formatDate)

function pad(n: number, width: number): string {
  if (n < 0 || n > 9999) {
    throw fail(LocationCodes.DateOutOfRangeForFormat, `Could not convert date to string: date component was outside the supported range of 0-9999: ${n}`);
  }
  return String(n).padStart(width, '0');
}

/** TimeZone::validateToStringFormat. */
function validateFormat(format: string): void {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    if (i + 1 >= format.length) throw fail(LocationCodes.DateToStringTrailingPercent, "Unmatched '%' at end of format string");
    const c = format[++i]!;
    if (!'dGHjLmMSuUVwYzZ%'.includes(c)) {
      if (c === 'b' || c === 'B') throw refuse(`the format specifier %${c} in $dateToString`);
      throw fail(LocationCodes.DateToStringBadFormatChar, `Invalid format character '%${c}' in format string`);
    }
  }
}

const ISO_FORMAT = '%Y-%m-%dT%H:%M:%S.%LZ';

/** TimeZone::outputDateWithFormat. */
function formatDate(format: string, ms: number, zone: TimeZone): string {
  const t = localTime(zone, ms);
  const p = t.parts;
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    switch (format[++i]) {
      case 'd':
        out += pad(p.day, 2);
        break;
      case 'G':
        out += pad(isoWeekAndYear(p).year, 4);
        break;
      case 'H':
        out += pad(p.hour, 2);
        break;
      case 'j':
        out += pad(dayOfYear(p), 3);
        break;
      case 'L':
        out += pad(p.millisecond, 3);
        break;
      case 'm':
        out += pad(p.month, 2);
        break;
      case 'M':
        out += pad(p.minute, 2);
        break;
      case 'S':
        out += pad(p.second, 2);
        break;
      case 'u':
        out += pad(isoDayOfWeek(p), 1);
        break;
      case 'U':
        out += pad(week(p), 2);
        break;
      case 'V':
        out += pad(isoWeekAndYear(p).week, 2);
        break;
      case 'w':
        out += pad(dayOfWeek(p), 1);
        break;
      case 'Y':
        out += pad(p.year, 4);
        break;
      case 'z': {
        const offset = utcOffset(zone, ms);
        out += `${offset < 0 ? '-' : '+'}${pad(Math.abs(Math.trunc(offset / 3600)), 2)}${pad(Math.abs(Math.trunc(offset / 60)) % 60, 2)}`;
        break;
      }
      case 'Z':
        out += String(Math.trunc(utcOffset(zone, ms) / 60) + 0);
        break;
      default:
        out += '%';
        break;
    }
  }
  return out;
}

function parseDateToString(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateToStringNotObject, '$dateToString only supports an object as its argument');
  let format: Node | undefined;
  let date: Node | undefined;
  let timezone: Node | undefined;
  let onNull: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'format') format = ctx.parse(arg[k]);
    else if (k === 'date') date = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else if (k === 'onNull') onNull = ctx.parse(arg[k]);
    else throw fail(LocationCodes.DateToStringUnknownArgument, `Unrecognized argument to $dateToString: ${k}`);
  }
  if (date === undefined) throw fail(LocationCodes.DateToStringMissingDate, "Missing 'date' parameter to $dateToString");
  const dateEval = date.evaluate;
  const formatEval = format?.evaluate;
  const onNullEval = onNull?.evaluate;
  const zoneOf = zoneReader(timezone);
  return computed(
    (s) => {
      const v = dateEval(s);
      let f: unknown;
      if (formatEval !== undefined) {
        f = formatEval(s);
        if (!nullish(f)) {
          if (typeof f !== 'string') {
            throw fail(
              LocationCodes.DateToStringFormatNotString,
              `$dateToString requires that 'format' be a string, found: ${typeName(f)} with value ${valueText(f)}`,
            );
          }
          validateFormat(f);
        }
      }
      const zone = zoneOf(s);
      if (nullish(v)) return onNullEval !== undefined ? onNullEval(s) : null;
      if (zone === null) return null;
      if (formatEval !== undefined && nullish(f)) return null;
      return formatDate(formatEval === undefined ? ISO_FORMAT : (f as string), dateMillis(v), zone);
    },
    [date, format, timezone, onNull],
  );
}

/** The zone of an optional timezone operand, per evaluation: UTC without one, null for nullish. */
function zoneReader(tz: Node | undefined): (s: Parameters<Evaluate>[0]) => TimeZone | null {
  if (tz === undefined) return () => UTC_ZONE;
  const e = tz.evaluate;
  return (s) => makeTimeZone(e(s));
}

// ---------------------------------------------------------------------------------------------
// $dateToParts

function parseDateToParts(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateToPartsNotObject, '$dateToParts only supports an object as its argument');
  let date: Node | undefined;
  let timezone: Node | undefined;
  let iso: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'date') date = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else if (k === 'iso8601') iso = ctx.parse(arg[k]);
    else throw fail(LocationCodes.DateToPartsUnknownArgument, `Unrecognized argument to $dateToParts: ${k}`);
  }
  if (date === undefined) throw fail(LocationCodes.DateToPartsMissingDate, "Missing 'date' parameter to $dateToParts");
  const dateEval = date.evaluate;
  const isoEval = iso?.evaluate;
  const zoneOf = zoneReader(timezone);
  return computed(
    (s) => {
      const v = dateEval(s);
      const zone = zoneOf(s);
      if (zone === null) return null;
      let useIso = false;
      if (isoEval !== undefined) {
        const flag = isoEval(s);
        if (nullish(flag)) return null;
        if (typeof flag !== 'boolean') throw fail(LocationCodes.DateToPartsIso8601NotBool, `iso8601 must evaluate to a bool, found ${typeName(flag)}`);
        useIso = flag;
      }
      if (nullish(v)) return null;
      const p = localTime(zone, dateMillis(v)).parts;
      const I = (n: number): Int32 => new Int32(n);
      if (useIso) {
        const iw = isoWeekAndYear(p);
        return {
          isoWeekYear: I(iw.year),
          isoWeek: I(iw.week),
          isoDayOfWeek: I(isoDayOfWeek(p)),
          hour: I(p.hour),
          minute: I(p.minute),
          second: I(p.second),
          millisecond: I(p.millisecond),
        };
      }
      return {
        year: I(p.year),
        month: I(p.month),
        day: I(p.day),
        hour: I(p.hour),
        minute: I(p.minute),
        second: I(p.second),
        millisecond: I(p.millisecond),
      };
    },
    [date, timezone, iso],
  );
}

// ---------------------------------------------------------------------------------------------
// $dateFromParts (TimeZone::createFromDateParts, createFromIso8601DateParts)

const DATE_PART_MIN = -32768n;
const DATE_PART_MAX = 32767n;
/** Local seconds beyond which no result fits a JavaScript Date, whatever the zone. */
const LOCAL_SECONDS_LIMIT = 8.64e12 + 2 * 86400;
/** Milliseconds whose microseconds overflow an int64 (mongod's duration cast fails). */
const MILLIS_LIMIT = 9223372036854775n;

type PartName = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond' | 'isoWeekYear' | 'isoWeek' | 'isoDayOfWeek';

/** evaluateNumberWithDefault(AndBounds): the value, or null when the operand is nullish. */
function datePart(node: Node | undefined, s: Parameters<Evaluate>[0], name: PartName, dflt: bigint, bounded: boolean): bigint | null {
  if (node === undefined) return dflt;
  const v = node.evaluate(s);
  if (nullish(v)) return null;
  if (!integral64Bit(v)) {
    throw fail(LocationCodes.DateFromPartsNotInteger, `'${name}' must evaluate to an integer, found ${typeName(v)} with value ${valueText(v)}`);
  }
  const n = coerceToLong(v);
  if (bounded && (n < DATE_PART_MIN || n > DATE_PART_MAX)) {
    throw fail(LocationCodes.DateFromPartsOutOfRange, `'${name}' must evaluate to a value in the range [-32768, 32767]; value ${n} is not in range`);
  }
  return n;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && a < 0n !== b < 0n) ? q - 1n : q;
}

/** The instant of local days + time-of-day parts in a zone, as timelib_update_ts computes it. */
function fromLocal(zone: TimeZone, days: number, h: bigint, i: bigint, sec: bigint, ms: bigint): Date {
  if (ms > MILLIS_LIMIT || ms < -MILLIS_LIMIT) throw refuse('$dateFromParts with a millisecond whose microseconds overflow a long');
  const local = BigInt(days) * 86400n + h * 3600n + i * 60n + sec + floorDiv(ms, 1000n);
  if (local > BigInt(LOCAL_SECONDS_LIMIT) || local < -BigInt(LOCAL_SECONDS_LIMIT)) throw outOfDateRange();
  const utc = localToUtc(zone, Number(local), epochDst(zone));
  return resultDate(utc * 1000 + Number(ms - floorDiv(ms, 1000n) * 1000n));
}

function parseDateFromParts(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateFromPartsNotObject, '$dateFromParts only supports an object as its argument');
  const nodes: Partial<Record<PartName | 'timezone', Node>> = {};
  for (const k of Object.keys(arg)) {
    switch (k) {
      case 'year':
      case 'month':
      case 'day':
      case 'hour':
      case 'minute':
      case 'second':
      case 'millisecond':
      case 'isoWeekYear':
      case 'isoWeek':
      case 'isoDayOfWeek':
      case 'timezone':
        nodes[k] = ctx.parse(arg[k]);
        break;
      default:
        throw fail(LocationCodes.DateFromPartsUnknownArgument, `Unrecognized argument to $dateFromParts: ${k}`);
    }
  }
  const { year, month, day, hour, minute, second, millisecond, isoWeekYear, isoWeek, isoDayOfWeek: isoDay, timezone } = nodes;
  if (year === undefined && isoWeekYear === undefined) {
    throw fail(LocationCodes.DateFromPartsMissingYear, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  }
  if (year !== undefined && (isoWeekYear !== undefined || isoWeek !== undefined || isoDay !== undefined)) {
    throw fail(LocationCodes.DateFromPartsNaturalWithIso, '$dateFromParts does not allow mixing natural dates with ISO dates');
  }
  if (isoWeekYear !== undefined && (year !== undefined || month !== undefined || day !== undefined)) {
    throw fail(LocationCodes.DateFromPartsIsoWithNatural, '$dateFromParts does not allow mixing ISO dates with natural dates');
  }
  const zoneOf = zoneReader(timezone);
  return computed(
    (s) => {
      const h = datePart(hour, s, 'hour', 0n, true);
      if (h === null) return null;
      const i = datePart(minute, s, 'minute', 0n, true);
      if (i === null) return null;
      const sec = datePart(second, s, 'second', 0n, false);
      if (sec === null) return null;
      const ms = datePart(millisecond, s, 'millisecond', 0n, false);
      if (ms === null) return null;
      const zone = zoneOf(s);
      if (zone === null) return null;
      if (year !== undefined) {
        const y = datePart(year, s, 'year', 1970n, false);
        if (y === null) return null;
        const m = datePart(month, s, 'month', 1n, true);
        if (m === null) return null;
        const d = datePart(day, s, 'day', 1n, true);
        if (d === null) return null;
        if (y < 1n || y > 9999n) {
          throw fail(LocationCodes.DateFromPartsYearRange, `'year' must evaluate to an integer in the range 1 to 9999, found ${y}`);
        }
        // Months carry into years, then days and the time of day carry through the calendar.
        const monthIndex = Number(y) * 12 + Number(m) - 1;
        const yy = Math.floor(monthIndex / 12);
        const days = daysFromCivil(yy, monthIndex - yy * 12 + 1, 1) + Number(d) - 1;
        return fromLocal(zone, days, h, i, sec, ms);
      }
      const iy = datePart(isoWeekYear, s, 'isoWeekYear', 1970n, false);
      if (iy === null) return null;
      const iw = datePart(isoWeek, s, 'isoWeek', 1n, true);
      if (iw === null) return null;
      const id = datePart(isoDay, s, 'isoDayOfWeek', 1n, true);
      if (id === null) return null;
      if (iy < 1n || iy > 9999n) {
        throw fail(LocationCodes.DateFromPartsIsoYearRange, `'isoWeekYear' must evaluate to an integer in the range 1 to 9999, found ${iy}`);
      }
      // timelib_date_from_isodate: week 1 holds the year's first Thursday.
      const jan1 = daysFromCivil(Number(iy), 1, 1);
      const jan1Dow = (((jan1 + 4) % 7) + 7) % 7; // 0 = Sunday
      const firstDay = -(jan1Dow > 4 ? jan1Dow - 7 : jan1Dow);
      const days = jan1 + firstDay + (Number(iw) - 1) * 7 + Number(id);
      return fromLocal(zone, days, h, i, sec, ms);
    },
    [year, month, day, hour, minute, second, millisecond, isoWeekYear, isoWeek, isoDay, timezone],
  );
}

export const dateOperators: OperatorTable = {
  $year: extractor(int((p) => p.year)),
  $month: extractor(int((p) => p.month)),
  $dayOfMonth: extractor(int((p) => p.day)),
  $hour: extractor(int((p) => p.hour)),
  $minute: extractor(int((p) => p.minute)),
  $second: extractor(int((p) => p.second)),
  $millisecond: extractor(int((p) => p.millisecond)),
  $dayOfWeek: extractor(int(dayOfWeek)),
  $dayOfYear: extractor(int(dayOfYear)),
  $week: extractor(int(week)),
  $isoWeek: extractor(int((p) => isoWeekAndYear(p).week)),
  $isoWeekYear: extractor((t) => Long.fromNumber(isoWeekAndYear(t.parts).year)),
  $isoDayOfWeek: extractor(int(isoDayOfWeek)),
  $dateToString: parseDateToString,
  $dateToParts: parseDateToParts,
  $dateFromParts: parseDateFromParts,
  ...dateFromStringOperators,
  ...dateArithmeticOperators,
};
