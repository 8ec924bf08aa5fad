/**
 * $dateAdd, $dateSubtract, $dateDiff and $dateTrunc as mongod 7.0 evaluates them
 * (src/mongo/db/pipeline/expression.cpp ExpressionDateArithmetics, ExpressionDateDiff,
 * ExpressionDateTrunc; src/mongo/db/query/datetime/date_time_support.cpp dateAdd, dateDiff,
 * truncateDate, parseTimeUnit, parseDayOfWeek).
 *
 * - dateAdd: milliseconds are added to the date; hours, minutes and seconds to the instant; days,
 *   weeks, months, quarters and years to the local date in the zone, keeping the local time of day
 *   (a month past the 31st ends on the month's last day), then back to UTC by timelib's rules. As
 *   7.0 does, a date before 1970 with a fraction of a second first loses one second (dateAdd takes
 *   the milliseconds with C++'s truncating %, timelib then borrows a second to normalise them).
 *   Amounts beyond what a date can reach are 5976500, results whose seconds overflow a long 5166406.
 * - dateDiff: whole units between the local fields of the two dates (hours, minutes and seconds
 *   corrected by the difference of their UTC offsets); milliseconds are the plain difference; a long.
 * - dateTrunc: bins counted from 2000-01-01T00:00 local time (from the first startOfWeek day after
 *   it for weeks); hours and smaller units bin the instant, larger ones the local calendar.
 * Results outside the range of a JavaScript Date are refused with 115.
 */
import { Long } from 'bson';
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { coerceToLong } from '../numeric.js';
import { computed, fail, isArgumentObject, type Evaluate, type Node, type OperatorTable, type ParseContext } from './node.js';
import {
  dateMillis,
  localDst,
  localToUtc,
  localTime,
  makeTimeZone,
  MAX_DATE_MS,
  outOfDateRange,
  resultDate,
  utcOffset,
  UTC_ZONE,
  type LocalTime,
  type TimeZone,
} from './timeZone.js';
import { BSON_TYPE, daysFromCivil, integral64Bit, nullish, typeName, typeOf, valueText } from './values.js';

type Scope = Parameters<Evaluate>[0];

type TimeUnit = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

const TIME_UNITS: ReadonlySet<string> = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond']);

/** DayOfWeek: monday = 1 .. sunday = 7. */
const DAYS_OF_WEEK: ReadonlyMap<string, number> = new Map([
  ['monday', 1],
  ['mon', 1],
  ['tuesday', 2],
  ['tue', 2],
  ['wednesday', 3],
  ['wed', 3],
  ['thursday', 4],
  ['thu', 4],
  ['friday', 5],
  ['fri', 5],
  ['saturday', 6],
  ['sat', 6],
  ['sunday', 7],
  ['sun', 7],
]);

const SUNDAY = 7;

/** Value::coercibleToDate. */
function coercibleToDate(v: unknown): boolean {
  const t = typeOf(v);
  return t === BSON_TYPE.date || t === BSON_TYPE.timestamp || t === BSON_TYPE.objectId;
}

/** parseTimeUnit(Value, expressionName) of expression.cpp: 5439013, 5439014. */
function parseTimeUnit(v: unknown, op: string): TimeUnit {
  if (typeof v !== 'string') throw fail(LocationCodes.DateUnitNotString, `${op} requires 'unit' to be a string, but got ${typeName(v)}`);
  if (!TIME_UNITS.has(v)) throw fail(LocationCodes.DateUnitUnknown, `${op} parameter 'unit' value cannot be recognized as a time unit: ${v}`);
  return v as TimeUnit;
}

/** parseDayOfWeek(Value, ...): 5439015, 5439016; names match case-insensitively. */
function parseDayOfWeek(v: unknown, op: string): number {
  if (typeof v !== 'string') throw fail(LocationCodes.DateStartOfWeekNotString, `${op} requires 'startOfWeek' to be a string, but got ${typeName(v)}`);
  const day = DAYS_OF_WEEK.get(v.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  if (day === undefined) {
    throw fail(LocationCodes.DateStartOfWeekUnknown, `${op} parameter 'startOfWeek' value cannot be recognized as a day of a week: ${v}`);
  }
  return day;
}

/** addContextToAssertionException: "<context> :: caused by :: <reason>". */
function withContext<T>(context: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof MongoError && e.code !== ErrorCodes.CommandNotSupported) {
      throw new MongoError(e.code, `${context} :: caused by :: ${e.message}`);
    }
    throw e;
  }
}

function zoneOf(tz: Node | undefined, s: Scope): TimeZone | null {
  return tz === undefined ? UTC_ZONE : makeTimeZone(tz.evaluate(s));
}

// ---------------------------------------------------------------------------------------------
// dateAdd

const SECONDS_PER_UNIT: Readonly<Record<'hour' | 'minute' | 'second', number>> = { hour: 3600, minute: 60, second: 1 };

/** isDateAddAmountValid's bounds (exclusive), per unit. */
const MAX_AMOUNT: Readonly<Record<Exclude<TimeUnit, 'millisecond'>, bigint>> = (() => {
  const maxDays = 18446744073709551615n / 86400000n + 1n;
  const maxYears = maxDays / 365n + 1n;
  const maxHours = maxDays * 24n;
  return {
    year: maxYears,
    quarter: maxYears * 4n,
    month: maxYears * 12n,
    week: maxDays / 7n,
    day: maxDays,
    hour: maxHours,
    minute: maxHours * 60n,
    second: maxHours * 3600n,
  };
})();

/** Seconds whose milliseconds overflow a long (dateAdd's 5166406). */
const MAX_SSE = 9223372036854775n;

/** date_time_support.cpp dateAdd. */
function dateAdd(ms: number, unit: TimeUnit, amount: bigint, zone: TimeZone): Date {
  if (unit === 'millisecond') return resultDate(ms + Number(amount));
  const bound = MAX_AMOUNT[unit];
  if (!(-bound < amount && amount < bound)) throw fail(LocationCodes.DateAddAmountInvalid, `invalid dateAdd 'amount' parameter value: ${amount} ${unit}`);
  // 7.0 takes the milliseconds with a truncating %: before 1970 they are negative, and timelib
  // normalises them by borrowing a second.
  const remainder = ms % 1000;
  const borrow = remainder < 0 ? 1 : 0;
  const millis = remainder < 0 ? remainder + 1000 : remainder;
  let sse: bigint;
  if (unit === 'hour' || unit === 'minute' || unit === 'second') {
    sse = BigInt(Math.floor(ms / 1000) - borrow) + amount * BigInt(SECONDS_PER_UNIT[unit]);
  } else {
    const local = localTime(zone, ms);
    const p = local.parts;
    let days: bigint;
    if (unit === 'day' || unit === 'week') {
      days = BigInt(p.days) + amount * (unit === 'week' ? 7n : 1n);
    } else {
      const months = amount * (unit === 'year' ? 12n : unit === 'quarter' ? 3n : 1n);
      const index = BigInt(p.year) * 12n + BigInt(p.month - 1) + months;
      const year = floorDiv(index, 12n);
      const month = Number(index - year * 12n) + 1;
      const y = Number(year);
      const day = Math.min(p.day, daysFromCivil(y, month + 1, 1) - daysFromCivil(y, month, 1));
      days = BigInt(daysFromCivil(y, month, day));
    }
    const local2 = days * 86400n + BigInt(p.hour * 3600 + p.minute * 60 + p.second - borrow);
    if (local2 > MAX_SSE + 86400n || local2 < -MAX_SSE - 86400n) throw fail(LocationCodes.DateAddOverflow, 'dateAdd overflowed');
    if (Number(local2) * 1000 > MAX_DATE_MS + 86400000 || Number(local2) * 1000 < -MAX_DATE_MS - 86400000) throw outOfDateRange();
    sse = BigInt(localToUtc(zone, Number(local2), localDst(zone, ms)));
  }
  if (sse > MAX_SSE || sse < -MAX_SSE) throw fail(LocationCodes.DateAddOverflow, 'dateAdd overflowed');
  return resultDate(Number(sse) * 1000 + millis);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function parseDateArithmetic(arg: unknown, ctx: ParseContext, op: string): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateArithmeticNotObject, `${op} expects an object as its argument`);
  let startDate: Node | undefined;
  let unit: Node | undefined;
  let amount: Node | undefined;
  let timezone: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'startDate') startDate = ctx.parse(arg[k]);
    else if (k === 'unit') unit = ctx.parse(arg[k]);
    else if (k === 'amount') amount = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else {
      throw fail(
        LocationCodes.DateArithmeticUnknownArgument,
        `Unrecognized argument to ${op}: ${k}. Expected arguments are startDate, unit, amount, and optionally timezone.`,
      );
    }
  }
  if (startDate === undefined || unit === undefined || amount === undefined) {
    throw fail(LocationCodes.DateArithmeticMissingArgument, `${op} requires startDate, unit, and amount to be present`);
  }
  const startEval = startDate.evaluate;
  const unitEval = unit.evaluate;
  const amountEval = amount.evaluate;
  const subtract = op === '$dateSubtract';
  return computed(
    (s) => {
      const start = startEval(s);
      if (nullish(start)) return null;
      const u = unitEval(s);
      if (nullish(u)) return null;
      const n = amountEval(s);
      if (nullish(n)) return null;
      const zone = zoneOf(timezone, s);
      if (zone === null) return null;
      if (!coercibleToDate(start)) throw fail(LocationCodes.DateArithmeticNotDate, `${op} requires startDate to be convertible to a date`);
      if (typeof u !== 'string') throw fail(LocationCodes.DateArithmeticUnitNotString, `${op} expects string defining the time unit`);
      if (!TIME_UNITS.has(u)) throw fail(ErrorCodes.FailedToParse, `unknown time unit value: ${u}`);
      if (!integral64Bit(n)) throw fail(LocationCodes.DateArithmeticAmountNotInteger, `${op} expects integer amount of time units`);
      let by = coerceToLong(n);
      if (subtract) {
        if (by === -(2n ** 63n)) throw fail(LocationCodes.DateSubtractAmountInvalid, `invalid $dateSubtract 'amount' parameter value: ${by}`);
        by = -by;
      }
      return dateAdd(dateMillis(start), u as TimeUnit, by, zone);
    },
    [startDate, unit, amount, timezone],
  );
}

// ---------------------------------------------------------------------------------------------
// dateDiff

/** A local calendar date: days since the epoch and its fields. */
interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly days: number;
}

/** 0 for the first day of the week starting on `startOfWeek`, .. 6 for the last. */
function dayOfWeek(d: CalendarDate, startOfWeek: number): number {
  const iso = ((((d.days + 3) % 7) + 7) % 7) + 1; // 1 = Monday
  return (iso - startOfWeek + 7) % 7;
}

function quarter(month: number): number {
  return Math.trunc((month - 1) / 3);
}

/** dateDiffYear .. dateDiffDay, dateDiffWeek on local calendar dates. */
function calendarDiff(a: CalendarDate, b: CalendarDate, unit: 'year' | 'quarter' | 'month' | 'week' | 'day', startOfWeek: number): number {
  switch (unit) {
    case 'year':
      return b.year - a.year;
    case 'quarter':
      return quarter(b.month) - quarter(a.month) + (b.year - a.year) * 4;
    case 'month':
      return b.month - a.month + (b.year - a.year) * 12;
    case 'week':
      return Math.trunc((b.days - a.days + dayOfWeek(a, startOfWeek) - dayOfWeek(b, startOfWeek)) / 7);
    case 'day':
      return b.days - a.days;
  }
}

/** date_time_support.cpp dateDiff. */
function dateDiff(startMs: number, endMs: number, unit: TimeUnit, zone: TimeZone, startOfWeek: number): bigint {
  if (unit === 'millisecond') return BigInt(endMs) - BigInt(startMs);
  const a: LocalTime = localTime(zone, startMs);
  const b: LocalTime = localTime(zone, endMs);
  if (unit !== 'hour' && unit !== 'minute' && unit !== 'second') return BigInt(calendarDiff(a.parts, b.parts, unit, startOfWeek));
  const zoneShift = a.offset - b.offset;
  const hours = b.parts.hour - a.parts.hour + (b.parts.days - a.parts.days) * 24;
  if (unit === 'hour') return BigInt(hours + Math.trunc(zoneShift / 3600));
  const minutes = b.parts.minute - a.parts.minute + hours * 60;
  if (unit === 'minute') return BigInt(minutes + Math.trunc(zoneShift / 60));
  return BigInt(b.parts.second - a.parts.second + minutes * 60 + zoneShift);
}

function parseDateDiff(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateDiffNotObject, '$dateDiff only supports an object as its argument');
  let startDate: Node | undefined;
  let endDate: Node | undefined;
  let unit: Node | undefined;
  let timezone: Node | undefined;
  let startOfWeek: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'startDate') startDate = ctx.parse(arg[k]);
    else if (k === 'endDate') endDate = ctx.parse(arg[k]);
    else if (k === 'unit') unit = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else if (k === 'startOfWeek') startOfWeek = ctx.parse(arg[k]);
    else throw fail(LocationCodes.DateDiffUnknownArgument, `Unrecognized argument to $dateDiff: ${k}`);
  }
  if (startDate === undefined) throw fail(LocationCodes.DateDiffMissingStartDate, "Missing 'startDate' parameter to $dateDiff");
  if (endDate === undefined) throw fail(LocationCodes.DateDiffMissingEndDate, "Missing 'endDate' parameter to $dateDiff");
  if (unit === undefined) throw fail(LocationCodes.DateDiffMissingUnit, "Missing 'unit' parameter to $dateDiff");
  const startEval = startDate.evaluate;
  const endEval = endDate.evaluate;
  const unitEval = unit.evaluate;
  const sowEval = startOfWeek?.evaluate;
  return computed(
    (s) => {
      const start = startEval(s);
      if (nullish(start)) return null;
      const end = endEval(s);
      if (nullish(end)) return null;
      const u = unitEval(s);
      if (nullish(u)) return null;
      const sowActive = sowEval !== undefined && u === 'week';
      const sow = sowActive ? sowEval(s) : undefined;
      if (sowActive && nullish(sow)) return null;
      const zone = withContext("$dateDiff parameter 'timezone' value parsing failed", () => zoneOf(timezone, s));
      if (zone === null) return null;
      const startMs = diffDate(start, 'startDate');
      const endMs = diffDate(end, 'endDate');
      const tu = parseTimeUnit(u, '$dateDiff');
      const weekStart = sowActive ? parseDayOfWeek(sow, '$dateDiff') : SUNDAY;
      return Long.fromBigInt(dateDiff(startMs, endMs, tu, zone, weekStart));
    },
    [startDate, endDate, unit, timezone, startOfWeek],
  );
}

/** ExpressionDateDiff::convertToDate: 5166307. */
function diffDate(v: unknown, name: string): number {
  if (!coercibleToDate(v)) throw fail(LocationCodes.DateDiffNotDate, `$dateDiff requires '${name}' to be a date, but got ${typeName(v)}`);
  return dateMillis(v);
}

// ---------------------------------------------------------------------------------------------
// dateTrunc

const MS_PER_UNIT: Readonly<Record<'millisecond' | 'second' | 'minute' | 'hour', bigint>> = {
  millisecond: 1n,
  second: 1000n,
  minute: 60000n,
  hour: 3600000n,
};
const LONG_MAX = 2n ** 63n - 1n;
const REFERENCE_MS = 946684800000; // 2000-01-01T00:00:00.000Z, a Saturday
const SATURDAY = 6;

function mod(a: bigint, b: bigint): bigint {
  const r = a % b;
  return r < 0n ? r + b : r;
}

/** date_time_support.cpp truncateDate with defaultReferencePointForDateTrunc. */
function truncateDate(ms: number, unit: TimeUnit, binSize: bigint, zone: TimeZone, startOfWeek: number): Date {
  let refMs = REFERENCE_MS - utcOffset(zone, REFERENCE_MS) * 1000;
  let refDay = 1;
  if (unit === 'week') {
    const adjust = (7 - ((SATURDAY - startOfWeek + 7) % 7)) % 7;
    refMs += adjust * 86400000;
    refDay += adjust;
  }
  if (unit === 'millisecond' || unit === 'second' || unit === 'minute' || unit === 'hour') {
    const binMs = binSize * MS_PER_UNIT[unit];
    if (binMs > LONG_MAX) throw fail(LocationCodes.DateTruncOverflowBinSize, 'dateTrunc overflowed');
    const result = BigInt(ms) - mod(BigInt(ms) - BigInt(refMs), binMs);
    if (result < -LONG_MAX - 1n) throw fail(LocationCodes.DateTruncOverflowBin, 'dateTrunc overflowed');
    return resultDate(Number(result));
  }
  if (binSize > 100000000000n) throw fail(LocationCodes.DateTruncBinSizeTooLarge, 'dateTrunc unsupported binSize value');
  const reference: CalendarDate = { year: 2000, month: 1, days: daysFromCivil(2000, 1, refDay) };
  const distance = BigInt(calendarDiff(reference, localTime(zone, ms).parts, unit, startOfWeek));
  return dateAdd(refMs, unit, distance - mod(distance, binSize), zone);
}

function parseDateTrunc(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) throw fail(LocationCodes.DateTruncNotObject, '$dateTrunc only supports an object as its argument');
  let date: Node | undefined;
  let unit: Node | undefined;
  let binSize: Node | undefined;
  let timezone: Node | undefined;
  let startOfWeek: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'date') date = ctx.parse(arg[k]);
    else if (k === 'binSize') binSize = ctx.parse(arg[k]);
    else if (k === 'unit') unit = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else if (k === 'startOfWeek') startOfWeek = ctx.parse(arg[k]);
    else {
      throw fail(
        LocationCodes.DateTruncUnknownArgument,
        `Unrecognized argument to $dateTrunc: ${k}. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek`,
      );
    }
  }
  if (date === undefined) throw fail(LocationCodes.DateTruncMissingDate, "Missing 'date' parameter to $dateTrunc");
  if (unit === undefined) throw fail(LocationCodes.DateTruncMissingUnit, "Missing 'unit' parameter to $dateTrunc");
  const dateEval = date.evaluate;
  const unitEval = unit.evaluate;
  const binEval = binSize?.evaluate;
  const sowEval = startOfWeek?.evaluate;
  return computed(
    (s) => {
      const d = dateEval(s);
      if (nullish(d)) return null;
      const u = unitEval(s);
      if (nullish(u)) return null;
      const bin = binEval === undefined ? undefined : binEval(s);
      if (binEval !== undefined && nullish(bin)) return null;
      const sowActive = sowEval !== undefined && u === 'week';
      const sow = sowActive ? sowEval(s) : undefined;
      if (sowActive && nullish(sow)) return null;
      const zone = withContext("$dateTrunc parameter 'timezone' value parsing failed", () => zoneOf(timezone, s));
      if (zone === null) return null;
      if (!coercibleToDate(d)) throw fail(LocationCodes.DateTruncNotDate, `$dateTrunc requires 'date' to be a date, but got ${typeName(d)}`);
      const ms = dateMillis(d);
      const tu = parseTimeUnit(u, '$dateTrunc');
      const size = binEval === undefined ? 1n : binSizeOf(bin);
      const weekStart = sowActive ? parseDayOfWeek(sow, '$dateTrunc') : SUNDAY;
      return truncateDate(ms, tu, size, zone, weekStart);
    },
    [date, unit, binSize, timezone, startOfWeek],
  );
}

/** ExpressionDateTrunc::convertToBinSize: 5439017, 5439018. */
function binSizeOf(v: unknown): bigint {
  if (!integral64Bit(v)) {
    throw fail(
      LocationCodes.DateTruncBinSizeNotInteger,
      `$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '${valueText(v)}' of type ${typeName(v)}`,
    );
  }
  const n = coerceToLong(v);
  if (n <= 0n) throw fail(LocationCodes.DateTruncBinSizeNotPositive, `$dateTrunc requires 'binSize' to be greater than 0, but got value ${n}`);
  return n;
}

export const dateArithmeticOperators: OperatorTable = {
  $dateAdd: parseDateArithmetic,
  $dateSubtract: parseDateArithmetic,
  $dateDiff: parseDateDiff,
  $dateTrunc: parseDateTrunc,
};
