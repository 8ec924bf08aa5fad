/**
 * Window bounds of $setWindowFields: their parse (the `window` field of a window function) and
 * their resolution, for the current document of a partition, to the first and last index of the
 * documents in the window.
 *
 * Sources (mongodb/mongo 7.0, src/mongo/db/pipeline/window_function/):
 * - window_bounds.cpp WindowBounds::parse: 'window' must be an object; 'documents' or 'range'
 *   (with an optional 'unit'); each bound 'unbounded', 'current' or a constant expression (an
 *   int32-representable number for documents and time ranges, any number for numeric ranges);
 *   5339900 for backwards bounds (current read as 0); 5339901 document bounds other than
 *   [unbounded, unbounded] without a sortBy; 5339902 range bounds without a one-field sortBy.
 * - partition_iterator.cpp getEndpointsDocumentBased / getEndpointsRangeBased: document bounds
 *   are offsets clamped to the partition (an empty window when shifted past an end); range bounds
 *   compare the sortBy field with the current document's value plus the bound (decimal addition,
 *   or dateAdd in UTC with a unit): 5429414 / 5429413 / 5429513 for a current value of the wrong
 *   type, the scan starting at the previous endpoints (the hint); a sortBy that is not ascending
 *   has no range expression (tassert 5429404).
 * - ../../query/datetime/date_time_support.cpp parseTimeUnit, dateAdd (month, quarter and year
 *   clamp the day to the end of the month), timeUnitTypicalMilliseconds.
 */
import { Double } from 'bson';
import { compareValues } from '../../bson/bsonOrder.js';
import { ErrorCodes, LocationCodes } from '../../errors.js';
import { decimalAdd } from '../decimal128.js';
import { civilFromDays, coerceToDouble, coerceToInt, daysFromCivil, typeName, typeOf, valueText } from '../expression/values.js';
import type { ValueCompare } from '../match/collation.js';
import { BSON_TYPE, elementText, objectKind } from '../match/values.js';
import { integral, isNumeric, toDecimal, type BsonNumber } from '../numeric.js';
import { compileExpr, constantValue, type CompileContext } from './context.js';
import { fail } from './errors.js';
import type { Obj } from './values.js';

/** One bound: a keyword or a number (an int offset for documents; a number for ranges). */
export type Bound<T> = 'unbounded' | 'current' | { readonly value: T };

export type TimeUnit = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

export interface DocumentBounds {
  readonly kind: 'documents';
  readonly lower: Bound<number>;
  readonly upper: Bound<number>;
}

export interface RangeBounds {
  readonly kind: 'range';
  readonly lower: Bound<unknown>;
  readonly upper: Bound<unknown>;
  readonly unit: TimeUnit | undefined;
}

export type WindowBounds = DocumentBounds | RangeBounds;

/** One part of the $setWindowFields sortBy. */
export interface SortPart {
  readonly path: string;
  readonly descending: boolean;
}

/** The parsed sortBy ({} is a sortBy with no part); undefined when there is none. */
export type SortBy = readonly SortPart[] | undefined;

export const DEFAULT_BOUNDS: DocumentBounds = { kind: 'documents', lower: 'unbounded', upper: 'unbounded' };

// ---------------------------------------------------------------------------------------------
// Time units

const TIME_UNITS: ReadonlySet<string> = new Set(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond']);

/** parseTimeUnit (date_time_support.cpp). */
export function parseTimeUnit(name: string): TimeUnit {
  if (!TIME_UNITS.has(name)) fail(ErrorCodes.FailedToParse, `unknown time unit value: ${name}`);
  return name as TimeUnit;
}

/** timeUnitTypicalMilliseconds for the units up to a week. */
export const UNIT_MILLIS: Readonly<Record<string, number>> = {
  week: 604800000,
  day: 86400000,
  hour: 3600000,
  minute: 60000,
  second: 1000,
  millisecond: 1,
};

const JS_DATE_LIMIT = 8.64e15;
const MS_PER_DAY = 86400000;

/** dateAdd in UTC: a date plus `amount` units, as milliseconds (clamped to the dates JavaScript holds). */
function dateAdd(ms: number, unit: TimeUnit, amount: number): number {
  let out: number;
  const months = unit === 'month' ? amount : unit === 'quarter' ? amount * 3 : unit === 'year' ? amount * 12 : undefined;
  if (months === undefined) {
    out = ms + amount * UNIT_MILLIS[unit]!;
  } else {
    const days = Math.floor(ms / MS_PER_DAY);
    const timeOfDay = ms - days * MS_PER_DAY;
    const { year, month, day } = civilFromDays(days);
    const total = year * 12 + (month - 1) + months;
    const y = Math.floor(total / 12);
    const m = total - y * 12 + 1;
    const last = daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
    out = daysFromCivil(y, m, Math.min(day, last)) * MS_PER_DAY + timeOfDay;
  }
  return Math.max(-JS_DATE_LIMIT, Math.min(JS_DATE_LIMIT, out));
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** parseBound: a keyword, or a constant expression checked by `check`. */
function parseBound<T>(elem: unknown, cc: CompileContext, check: (v: unknown) => T): Bound<T> {
  if (typeof elem === 'string') {
    if (elem === 'unbounded') return 'unbounded';
    if (elem === 'current') return 'current';
    fail(ErrorCodes.FailedToParse, "Window bounds must be 'unbounded', 'current', or a number.");
  }
  const expr = compileExpr(elem, cc);
  if (!expr.constant) fail(ErrorCodes.FailedToParse, 'Window bounds expression must be a constant.');
  return { value: check(constantValue(expr, new Date())) };
}

/** checkBoundsForward: lower <= upper once 'current' reads as 0. */
function checkBoundsForward<T>(lower: Bound<T>, upper: Bound<T>, zero: T, lessOrEqual: (a: T, b: T) => boolean): void {
  const norm = (b: Bound<T>): T | undefined => (b === 'current' ? zero : b === 'unbounded' ? undefined : b.value);
  const lo = norm(lower);
  const hi = norm(upper);
  if (lo !== undefined && hi !== undefined && !lessOrEqual(lo, hi)) {
    fail(LocationCodes.WindowBoundsBackwards, `Lower bound must not exceed upper bound: [${valueText(lo)}, ${valueText(hi)}]`);
  }
}

function unpack(name: string, e: unknown): [unknown, unknown] {
  if (!Array.isArray(e) || e.length !== 2) fail(ErrorCodes.FailedToParse, `Window bounds must be a 2-element array: ${elementText(name, e)}`);
  return [e[0], e[1]];
}

/** WindowBounds::parse of a `window` value. */
export function parseWindowBounds(value: unknown, sortBy: SortBy, cc: CompileContext): WindowBounds {
  if (objectKind(value) !== 1) fail(ErrorCodes.FailedToParse, "'window' field must be an object");
  const args = value as Obj;
  const count = Object.keys(args).length;
  const has = (k: string): boolean => Object.hasOwn(args, k);
  if (has('documents') && has('range')) fail(ErrorCodes.FailedToParse, "Window bounds can specify either 'documents' or 'unit', not both.");
  if (!has('range') && has('unit')) fail(ErrorCodes.FailedToParse, "Window bounds can only specify 'unit' with range-based bounds.");
  if (!has('range') && !has('documents')) {
    if (count !== 0) fail(ErrorCodes.FailedToParse, "'window' field can only contain 'documents' as the only argument or 'range' with an optional 'unit' field");
    return DEFAULT_BOUNDS;
  }
  if (has('documents')) {
    if (count !== 1) fail(ErrorCodes.FailedToParse, "'window' field that specifies documents cannot have other fields");
    const [lowerElem, upperElem] = unpack('documents', args.documents);
    const toInt = (v: unknown): number => {
      if (!integral(v)) fail(ErrorCodes.FailedToParse, 'Numeric document-based bounds must be an integer');
      return coerceToInt(v);
    };
    const lower = parseBound(lowerElem, cc, toInt);
    const upper = parseBound(upperElem, cc, toInt);
    checkBoundsForward(lower, upper, 0, (a, b) => a <= b);
    const bounds: DocumentBounds = { kind: 'documents', lower, upper };
    if (!(lower === 'unbounded' && upper === 'unbounded') && sortBy === undefined) {
      fail(LocationCodes.WindowDocumentBoundsNeedSortBy, 'Document-based bounds require a sortBy');
    }
    return bounds;
  }
  const [lowerElem, upperElem] = unpack('range', args.range);
  let bounds: RangeBounds;
  const lessOrEqual = (a: unknown, b: unknown): boolean => compareValues(a, b) <= 0;
  if (has('unit')) {
    if (count !== 2) fail(ErrorCodes.FailedToParse, "'window' field that specifies unit cannot have other fields besides 'range'");
    if (typeof args.unit !== 'string') fail(ErrorCodes.FailedToParse, "'unit' must be a string");
    const check = (v: unknown): unknown => {
      if (!integral(v)) fail(ErrorCodes.FailedToParse, "With 'unit', range-based bounds must be an integer");
      return v;
    };
    const lower = parseBound(lowerElem, cc, check);
    const upper = parseBound(upperElem, cc, check);
    checkBoundsForward<unknown>(lower, upper, 0, lessOrEqual);
    bounds = { kind: 'range', lower, upper, unit: parseTimeUnit(args.unit) };
  } else {
    if (count !== 1) fail(ErrorCodes.FailedToParse, "'window' field that specifies range cannot have other fields besides 'unit'");
    const check = (v: unknown): unknown => {
      if (!isNumeric(v)) fail(ErrorCodes.FailedToParse, 'Range-based bounds expression must be a number');
      return v;
    };
    const lower = parseBound(lowerElem, cc, check);
    const upper = parseBound(upperElem, cc, check);
    checkBoundsForward<unknown>(lower, upper, 0, lessOrEqual);
    bounds = { kind: 'range', lower, upper, unit: undefined };
  }
  if (sortBy === undefined || sortBy.length !== 1) fail(LocationCodes.WindowRangeBoundsNeedSortBy, 'Range-based bounds require sortBy a single field');
  return bounds;
}

// ---------------------------------------------------------------------------------------------
// Endpoints

/** The documents of one partition as the endpoint computations read them. */
export interface PartitionView {
  readonly size: number;
  /** The value of the sortBy field as a range window reads it (tassert 5429404 when the sortBy is descending). */
  rangeKey(index: number): unknown;
}

/** First and last index (inclusive) of a window; undefined for an empty window. */
export type Endpoints = readonly [number, number] | undefined;

/** getEndpointsDocumentBased: offsets from the current document, clamped to the partition. */
export function documentEndpoints(bounds: DocumentBounds, current: number, size: number): Endpoints {
  const at = (b: Bound<number>): number | undefined => (b === 'unbounded' ? undefined : current + (b === 'current' ? 0 : b.value));
  const lo = at(bounds.lower);
  const hi = at(bounds.upper);
  if (lo !== undefined && lo > size - 1) return undefined;
  if (hi !== undefined && hi < 0) return undefined;
  const clamp = (i: number): number => Math.max(0, Math.min(i, size - 1));
  return [lo === undefined ? 0 : clamp(lo), hi === undefined ? size - 1 : clamp(hi)];
}

/** An integer below 10^15 as a double (the decimal mongod converts it to is the same number), else undefined. */
function smallInteger(v: unknown): number | undefined {
  const t = typeOf(v);
  if (t !== BSON_TYPE.int && t !== BSON_TYPE.long && t !== BSON_TYPE.double) return undefined;
  const x = coerceToDouble(v);
  return Number.isInteger(x) && Math.abs(x) < 1e15 ? x : undefined;
}

/**
 * decimalAdd: the range threshold base + delta, both coerced to decimals (doubles with 15
 * digits). Two small integers add exactly as doubles: the same threshold, cheaper to compare.
 */
function numericThreshold(base: unknown, delta: unknown): BsonNumber {
  const b = smallInteger(base);
  const d = smallInteger(delta);
  if (b !== undefined && d !== undefined) return new Double(b + d);
  return decimalAdd(toDecimal(base as BsonNumber), toDecimal(delta as BsonNumber));
}

function isDate(v: unknown): v is Date {
  return v instanceof Date;
}

/**
 * getEndpointsRangeBased. `hint` is the previous endpoints of the same window (the scan starts
 * there); `floor` the first index a scan without a hint starts from (the documents before it are
 * below every later threshold: mongod's released cache).
 */
export function rangeEndpoints(bounds: RangeBounds, view: PartitionView, current: number, compare: ValueCompare, hint: Endpoints, floor: number): Endpoints {
  const unit = bounds.unit;
  const base = view.rangeKey(current);
  if (unit !== undefined) {
    if (!isDate(base)) fail(LocationCodes.WindowRangeNeedsDate, `Invalid range: Expected the sortBy field to be a Date, but it was ${typeName(base)}`);
  } else {
    if (isDate(base)) fail(LocationCodes.WindowRangeDateNeedsUnit, 'Invalid range: For windows that involve date or time ranges, a unit must be provided.');
    if (!isNumeric(base)) fail(LocationCodes.WindowRangeNeedsNumber, `Invalid range: Expected the sortBy field to be a number, but it was ${typeName(base)}`);
  }
  const add = (delta: unknown): Date | BsonNumber =>
    unit !== undefined ? new Date(dateAdd((base as Date).getTime(), unit, coerceToInt(delta))) : numericThreshold(base, delta);
  const expected = (v: unknown): boolean => (unit !== undefined ? isDate(v) : isNumeric(v));
  const lessThan = (a: unknown, b: unknown): boolean => compare(a, b) < 0;
  const size = view.size;
  const lowerStart = hint === undefined ? floor : Math.max(hint[0], floor);

  let lower: number | undefined;
  const lb = bounds.lower;
  if (lb === 'current') {
    lower = current;
  } else if (lb === 'unbounded') {
    for (let i = lowerStart; i < size && lower === undefined; i++) if (expected(view.rangeKey(i))) lower = i;
  } else {
    const threshold = add(lb.value);
    for (let i = lowerStart; i < size; i++) {
      const v = view.rangeKey(i);
      if (!lessThan(v, threshold)) {
        if (expected(v)) lower = i;
        break;
      }
    }
  }
  if (lower === undefined) return undefined;

  const ub = bounds.upper;
  if (ub === 'current') return [lower, current];
  if (ub === 'unbounded') {
    let start = Math.max(current, lower);
    if (hint !== undefined) start = Math.max(hint[1], start);
    for (let i = start; i < size; i++) {
      if (!expected(view.rangeKey(i))) {
        if (i === start) fail(LocationCodes.WindowRangeNoRightmost, 'Failed to find the rightmost numeric document, while computing window bounds');
        return [lower, i - 1];
      }
    }
    return [lower, size - 1];
  }
  const threshold = add(ub.value);
  let start = lower;
  if (hint !== undefined) start = Math.max(hint[1], start);
  for (let i = start; i < size; i++) {
    if (lessThan(threshold, view.rangeKey(i))) return i === start ? undefined : [lower, i - 1];
  }
  return [lower, size - 1];
}
