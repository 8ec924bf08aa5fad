/**
 * Date expressions, in UTC and fixed UTC offsets (src/mongo/db/exec/expression/evaluate_date.cpp,
 * date parsers in src/mongo/db/pipeline/expression.cpp, formats from date_time_support.cpp):
 * $year $month $dayOfMonth $hour $minute $second $millisecond $dayOfWeek $dayOfYear $week
 * $isoWeek $isoWeekYear $isoDayOfWeek $dateToString $dateToParts.
 *
 * The date argument is coerced as Value::coerceToDate does (dates, timestamps, ObjectIds; else
 * 16006). A 'timezone' is honoured when it is a zero-offset zone name (UTC, GMT, Etc/UTC, ...) or a
 * fixed offset ("+05:30", "-0800", "+03"); any other zone name (which needs the tz database and its
 * daylight-saving rules) is refused with 115, at parse time when it is a constant. $dateFromString,
 * $dateFromParts, $dateAdd, $dateSubtract, $dateDiff and $dateTrunc are refused (compile.ts).
 */
import { LocationCodes } from '../../errors.js';
import { Int32 } from 'bson';
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
import { coerceToDateMillis, dateParts, nullish, objText, typeName, valueText, type DateParts } from './values.js';

// ---------------------------------------------------------------------------------------------
// Time zones

const ZERO_OFFSET_ZONES = new Set([
  'UTC',
  'GMT',
  'UCT',
  'Universal',
  'Zulu',
  'Greenwich',
  'GMT0',
  'GMT+0',
  'GMT-0',
  'Etc/UTC',
  'Etc/GMT',
  'Etc/UCT',
  'Etc/Universal',
  'Etc/Zulu',
  'Etc/Greenwich',
  'Etc/GMT0',
  'Etc/GMT+0',
  'Etc/GMT-0',
]);

/** The offset in milliseconds of a time zone argument, refusing zones with rules. */
function zoneOffset(tz: unknown, op: string): number | null {
  if (nullish(tz)) return null;
  if (typeof tz !== 'string') throw fail(LocationCodes.TimezoneNotString, `timezone must evaluate to a string, found ${typeName(tz)}`);
  if (ZERO_OFFSET_ZONES.has(tz)) return 0;
  const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(tz);
  if (m !== null) {
    const hours = Number(m[2]);
    const minutes = m[3] === undefined ? 0 : Number(m[3]);
    if (hours <= 23 && minutes <= 59) return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes) * 60000;
  }
  throw refuse(`the time zone "${tz}" in ${op} (only UTC and fixed offsets are honoured)`);
}

/** A time zone argument: parsed once when constant, else per evaluation. */
function timezoneReader(tz: Node | undefined, op: string): (s: Parameters<Evaluate>[0]) => number | null {
  if (tz === undefined) return () => 0;
  if (tz.constant) {
    const none = { root: {}, current: {}, now: new Date(0), variables: new Map() };
    const offset = zoneOffset(tz.evaluate(none), op);
    return () => offset;
  }
  const e = tz.evaluate;
  return (s) => zoneOffset(e(s), op);
}

// ---------------------------------------------------------------------------------------------
// Calendar

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
  const thursday = p.days - (isoDayOfWeek(p) - 1) + 3;
  const t = dateParts(thursday * 86400000);
  const w = Math.floor((dayOfYear(t) - 1) / 7) + 1;
  return { year: t.year, week: w };
}

// ---------------------------------------------------------------------------------------------
// Extractors

type Extract = (p: DateParts) => number;

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
    const offsetOf = timezoneReader(timezone, op);
    return computed(
      (s) => {
        const v = dateEval(s);
        if (nullish(v)) return null;
        const ms = coerceToDateMillis(v);
        const offset = offsetOf(s);
        if (offset === null) return null;
        return new Int32(extract(dateParts(ms + offset)));
      },
      [date, timezone],
    );
  };
}

// ---------------------------------------------------------------------------------------------
// $dateToString

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
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

function yearText(year: number): string {
  if (year < 0 || year > 9999) {
    throw fail(
      LocationCodes.DateOutOfRangeForFormat,
      `Could not convert date to string: date component was outside the supported range of 0-9999: ${year}`,
    );
  }
  return pad(year, 4);
}

/** TimeZone::formatDate of a (shifted) date. */
function formatDate(format: string, ms: number, offset: number): string {
  const p = dateParts(ms + offset);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const c = format[++i]!;
    switch (c) {
      case 'd':
        out += pad(p.day, 2);
        break;
      case 'G':
        out += yearText(isoWeekAndYear(p).year);
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
        out += String(isoDayOfWeek(p));
        break;
      case 'U':
        out += pad(week(p), 2);
        break;
      case 'V':
        out += pad(isoWeekAndYear(p).week, 2);
        break;
      case 'w':
        out += String(dayOfWeek(p));
        break;
      case 'Y':
        out += yearText(p.year);
        break;
      case 'z': {
        const minutes = Math.round(offset / 60000);
        const a = Math.abs(minutes);
        out += `${minutes < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}${pad(a % 60, 2)}`;
        break;
      }
      case 'Z': {
        const minutes = Math.round(offset / 60000);
        out += `${minutes < 0 ? '-' : '+'}${Math.abs(minutes)}`;
        break;
      }
      case '%':
        out += '%';
        break;
      default:
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
  // Without a format, mongod writes "Z" only for its UTC zone object; which zone names it gives
  // that object is not settled here, so a named or offset zone without a format is refused.
  if (format === undefined && timezone !== undefined) throw refuse("$dateToString with a 'timezone' and no 'format'");
  const dateEval = date.evaluate;
  const formatEval = format?.evaluate;
  const onNullEval = onNull?.evaluate;
  const offsetOf = timezoneReader(timezone, '$dateToString');
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
      const offset = offsetOf(s);
      if (nullish(v)) return onNullEval !== undefined ? onNullEval(s) : null;
      if (offset === null) return null;
      if (formatEval !== undefined && nullish(f)) return null;
      const ms = coerceToDateMillis(v);
      return formatDate(formatEval === undefined ? '%Y-%m-%dT%H:%M:%S.%LZ' : (f as string), ms, offset);
    },
    [date, format, timezone, onNull],
  );
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
  const offsetOf = timezoneReader(timezone, '$dateToParts');
  return computed(
    (s) => {
      const v = dateEval(s);
      const offset = offsetOf(s);
      if (offset === null) return null;
      let useIso = false;
      if (isoEval !== undefined) {
        const flag = isoEval(s);
        if (nullish(flag)) return null;
        if (typeof flag !== 'boolean') throw fail(LocationCodes.DateToPartsIso8601NotBool, `iso8601 must evaluate to a bool, found ${typeName(flag)}`);
        useIso = flag;
      }
      if (nullish(v)) return null;
      const p = dateParts(coerceToDateMillis(v) + offset);
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

export const dateOperators: OperatorTable = {
  $year: extractor((p) => p.year),
  $month: extractor((p) => p.month),
  $dayOfMonth: extractor((p) => p.day),
  $hour: extractor((p) => p.hour),
  $minute: extractor((p) => p.minute),
  $second: extractor((p) => p.second),
  $millisecond: extractor((p) => p.millisecond),
  $dayOfWeek: extractor(dayOfWeek),
  $dayOfYear: extractor(dayOfYear),
  $week: extractor(week),
  $isoWeek: extractor((p) => isoWeekAndYear(p).week),
  $isoWeekYear: extractor((p) => isoWeekAndYear(p).year),
  $isoDayOfWeek: extractor(isoDayOfWeek),
  $dateToString: parseDateToString,
  $dateToParts: parseDateToParts,
};
