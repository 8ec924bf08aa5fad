/**
 * $dateFromString as mongod 7.0 evaluates it (src/mongo/db/pipeline/expression.cpp
 * ExpressionDateFromString; src/mongo/db/query/datetime/date_time_support.cpp
 * TimeZoneDatabase::fromString with its kDateFromStringFormatMap), parsing as timelib does
 * (src/third_party/timelib parse_date.re: timelib_parse_from_format_with_map, timelib_strtotime).
 *
 * With a format, every specifier mongod accepts (%b %B %d %G %H %L %m %M %S %u %V %Y %z %Z %%) is
 * read as timelib reads it, with its errors and warnings (position, message, character) in
 * mongod's ConversionFailure (241) text. A %z zone written as a name is read when it is UTC, GMT or
 * a one-letter military zone, or a name of six or more characters (never a known abbreviation);
 * other abbreviations (EST, CEST, ...), which need timelib's abbreviation table, are refused (115).
 *
 * Without a format timelib's strtotime accepts a great many forms; the ISO 8601 forms mongod's
 * documentation gives are read here: YYYY-MM-DD, optionally followed by "T", "t" or spaces and
 * hh:mm, hh:mm:ss or hh:mm:ss.fraction, optionally followed by Z, UTC, GMT, a one-letter military
 * zone or an offset ±hh, ±hhmm, ±hh:mm (GMT±... too). Other strings are refused (115) rather than
 * guessed at, except the empty string and white space alone, which timelib rejects.
 *
 * A date string carrying a zone may not be combined with a timezone other than mongod's UTC zone
 * (241); onError catches every 241, onNull answers a nullish dateString.
 */
import { ErrorCodes, LocationCodes, MongoError } from '../../errors.js';
import { computed, fail, isArgumentObject, refuse, type Node, type OperatorTable, type ParseContext } from './node.js';
import { epochDst, localToUtc, makeTimeZone, resultDate, UTC_ZONE, type TimeZone } from './timeZone.js';
import { daysFromCivil, nullish, typeName, valueText } from './values.js';

/** kDateFromStringFormatMap's specifiers (and %% for a literal %). */
const FORMAT_SPECIFIERS = 'bBdGHLmMSuVYzZ%';

/** TimeZone::validateFromStringFormat: 18535, 18536. */
function validateFormat(format: string): void {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    if (i + 1 >= format.length) throw fail(LocationCodes.DateToStringTrailingPercent, "Unmatched '%' at end of format string");
    const c = format[++i]!;
    if (!FORMAT_SPECIFIERS.includes(c)) throw fail(LocationCodes.DateToStringBadFormatChar, `Invalid format character '%${c}' in format string`);
  }
}

// ---------------------------------------------------------------------------------------------
// The parsed time (timelib_time's fields; undefined is TIMELIB_UNSET)

interface Message {
  readonly position: number;
  readonly text: string;
  readonly character: number;
  readonly tzNotFound?: boolean;
}

/** timelib's zone types: none, an offset, an abbreviation. */
const ZONE_NONE = 0;
const ZONE_OFFSET = 1;
const ZONE_ABBR = 2;

interface Parsed {
  y?: number;
  m?: number;
  d?: number;
  h?: number;
  i?: number;
  s?: number;
  us?: number;
  /** UTC offset of the string's zone, seconds (z + dst * 3600 for an abbreviation). */
  z: number;
  zoneType: number;
  abbr: string;
  readonly errors: Message[];
  readonly warnings: Message[];
}

function newParsed(): Parsed {
  return { z: 0, zoneType: ZONE_NONE, abbr: '', errors: [], warnings: [] };
}

function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

/** timelib_valid_time, timelib_valid_date. */
function validTime(h: number, i: number, s: number): boolean {
  return h >= 0 && h <= 23 && i >= 0 && i <= 59 && s >= 0 && s <= 59;
}
function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

// ---------------------------------------------------------------------------------------------
// timelib_parse_from_format_with_map, over the UTF-8 bytes (a NUL ends a C string)

/** timelib_month_lookup: English names and abbreviations, and Roman numerals, matched ignoring case. */
const MONTHS: ReadonlyMap<string, number> = new Map(
  [
    'jan january i',
    'feb february ii',
    'mar march iii',
    'apr april iv',
    'may v',
    'jun june vi',
    'jul july vii',
    'aug august viii',
    'sep sept september ix',
    'oct october x',
    'nov november xi',
    'dec december xii',
  ].flatMap((names, k) => names.split(' ').map((n): [string, number] => [n, k + 1])),
);

/** The military one-letter zones of timelib's abbreviation table (offset in seconds). */
function militaryOffset(letter: string): number | undefined {
  const c = letter.charCodeAt(0);
  if (letter === 'z') return 0;
  if (c >= 97 && c <= 105) return (c - 96) * 3600; // a .. i
  if (c >= 107 && c <= 109) return (c - 97) * 3600; // k .. m
  if (c >= 110 && c <= 121) return -(c - 109) * 3600; // n .. y
  return undefined;
}

const isDigit = (b: number): boolean => b >= 48 && b <= 57;
const isAlpha = (b: number): boolean => (b >= 65 && b <= 90) || (b >= 97 && b <= 122);

class FormatParser {
  private ptr = 0;
  readonly t = newParsed();
  private isoYear: number | undefined;
  private isoWeek: number | undefined;
  private isoDay: number | undefined;

  constructor(private readonly str: Buffer) {}

  private at(i: number): number {
    return i < this.str.length ? this.str[i]! : 0;
  }

  private error(text: string, position: number, tzNotFound = false): void {
    this.t.errors.push({ position, text, character: this.at(position), tzNotFound });
  }

  private warning(text: string, position: number): void {
    this.t.warnings.push({ position, text, character: this.at(position) });
  }

  /** timelib_get_nr_ex: skip to a digit (undefined at the end), read up to `max` digits. */
  private number(max: number): { value: number | undefined; length: number } {
    while (!isDigit(this.at(this.ptr))) {
      if (this.at(this.ptr) === 0) return { value: undefined, length: 0 };
      this.ptr++;
    }
    const begin = this.ptr;
    while (isDigit(this.at(this.ptr)) && this.ptr - begin < max) this.ptr++;
    return { value: Number(this.str.toString('latin1', begin, this.ptr)), length: this.ptr - begin };
  }

  /** TIMELIB_CHECK_NUMBER (a NUL passes: strchr finds the terminator). */
  private checkNumber(begin: number): void {
    const b = this.at(this.ptr);
    if (!isDigit(b) && b !== 0) this.error('Unexpected data found.', begin);
  }

  parse(format: Buffer): Parsed {
    const t = this.t;
    const f = (k: number): number => (k < format.length ? format[k]! : 0);
    let fptr = 0;
    let prefixFound = false;
    while (f(fptr) !== 0 && this.at(this.ptr) !== 0) {
      const begin = this.ptr;
      const fc = f(fptr);
      if ((!prefixFound && fc !== 37) || (prefixFound && fc === 37)) {
        if (fc !== this.at(this.ptr)) this.error('Format literal not found', begin);
        this.ptr++;
        fptr++;
        prefixFound = false;
        continue;
      }
      if (fc === 37) {
        fptr++;
        prefixFound = true;
        continue;
      }
      prefixFound = false;
      this.specifier(String.fromCharCode(fc), begin);
      fptr++;
    }
    if (this.at(this.ptr) !== 0) this.error('Trailing data', this.ptr);
    if (f(fptr) !== 0) this.error('Not enough data available to satisfy format', this.ptr);
    if (t.h !== undefined || t.i !== undefined || t.s !== undefined || t.us !== undefined) {
      t.h ??= 0;
      t.i ??= 0;
      t.s ??= 0;
      t.us ??= 0;
    }
    const iso = this.isoYear !== undefined || this.isoWeek !== undefined || this.isoDay !== undefined;
    if (t.y !== undefined && iso) this.error('Mixing of ISO dates with natural dates is not allowed', this.ptr);
    if (this.isoYear !== undefined && (t.y !== undefined || t.m !== undefined || t.d !== undefined)) {
      this.error('Mixing of ISO dates with natural dates is not allowed', this.ptr);
    }
    if (this.isoYear !== undefined) {
      const days = isoDays(this.isoYear, this.isoWeek ?? 1, this.isoDay ?? 1);
      const date = new Date(days * 86400000);
      t.y = date.getUTCFullYear();
      t.m = date.getUTCMonth() + 1;
      t.d = date.getUTCDate();
    } else if (iso) {
      this.warning('The parsed date was invalid', this.ptr);
    }
    if (t.h !== undefined && t.i !== undefined && t.s !== undefined && !validTime(t.h, t.i, t.s)) {
      this.warning('The parsed time was invalid', this.ptr);
    }
    if (t.y !== undefined && t.m !== undefined && t.d !== undefined && !validDate(t.y, t.m, t.d)) {
      this.warning('The parsed date was invalid', this.ptr);
    }
    return t;
  }

  private specifier(c: string, begin: number): void {
    const t = this.t;
    switch (c) {
      case 'd':
      case 'm':
      case 'H':
      case 'Y': {
        this.checkNumber(begin);
        const n = this.number(c === 'Y' ? 4 : 2).value;
        if (c === 'd') t.d = n;
        else if (c === 'm') t.m = n;
        else if (c === 'H') t.h = n;
        else t.y = n;
        if (n === undefined) {
          const what = { d: 'A two digit day', m: 'A two digit month', H: 'A two digit hour', Y: 'A four digit year' }[c];
          this.error(`${what} could not be found`, begin);
        }
        break;
      }
      case 'M':
      case 'S': {
        this.checkNumber(begin);
        const { value, length } = this.number(2);
        if (value === undefined || length !== 2) {
          this.error(`A two digit ${c === 'M' ? 'minute' : 'second'} could not be found`, begin);
          break;
        }
        if (c === 'M') t.i = value;
        else t.s = value;
        break;
      }
      case 'L': {
        this.checkNumber(begin);
        const from = this.ptr;
        const { value } = this.number(3);
        if (value === undefined || this.ptr - from < 1) {
          this.error('A three digit millisecond could not be found', begin);
          break;
        }
        t.us = Math.trunc(value * Math.pow(10, 3 - (this.ptr - from)) * 1000);
        break;
      }
      case 'b':
      case 'B': {
        let end = this.ptr;
        while (isAlpha(this.at(end))) end++;
        const word = this.str.toString('latin1', this.ptr, end).toLowerCase();
        this.ptr = end;
        const month = MONTHS.get(word);
        if (month === undefined) {
          this.error('A textual month could not be found', begin);
          break;
        }
        t.m = month;
        break;
      }
      case 'G': {
        const n = this.number(4).value;
        this.isoYear = n;
        if (n === undefined) this.error('A four digit ISO year could not be found', begin);
        break;
      }
      case 'V': {
        const n = this.number(2).value;
        this.isoWeek = n;
        if (n === undefined) this.error('A two digit ISO week could not be found', begin);
        else if (n < 1 || n > 53) this.error('ISO Week must be between 1 and 53', begin);
        break;
      }
      case 'u': {
        const n = this.number(1).value;
        this.isoDay = n;
        if (n === undefined) this.error('A single digit day of week could not be found', begin);
        else if (n < 1 || n > 7) this.error('Day of week must be between 1 and 7', begin);
        break;
      }
      case 'z':
        this.zone(begin);
        break;
      case 'Z':
        this.zoneMinutes(begin);
        break;
      default:
        // TIMELIB_FORMAT_LITERAL (validateFormat leaves no other specifier).
        if (c.charCodeAt(0) !== this.at(this.ptr)) this.error('The format separator does not match', begin);
        this.ptr++;
        break;
    }
  }

  /** timelib_parse_zone. */
  private zone(begin: number): void {
    const t = this.t;
    while (this.at(this.ptr) === 32 || this.at(this.ptr) === 9 || this.at(this.ptr) === 40) this.ptr++;
    const p = this.ptr;
    if (this.at(p) === 71 && this.at(p + 1) === 77 && this.at(p + 2) === 84 && (this.at(p + 3) === 43 || this.at(p + 3) === 45)) this.ptr += 3;
    const sign = this.at(this.ptr);
    if (sign === 43 || sign === 45) {
      this.ptr++;
      t.zoneType = ZONE_OFFSET;
      const offset = this.tzCorrection();
      if (offset === undefined) {
        t.z = 0;
        this.error('The timezone could not be found in the database', begin, true);
      } else {
        t.z = sign === 45 ? -offset : offset;
      }
    } else {
      const start = this.ptr;
      while (isAlpha(this.at(this.ptr)) || isDigit(this.at(this.ptr)) || [47, 95, 45, 43].includes(this.at(this.ptr))) this.ptr++;
      const word = this.str.toString('latin1', start, this.ptr);
      const lower = word.toLowerCase();
      let offset: number | undefined;
      if (word.length < 6) {
        if (lower === 'utc' || lower === 'gmt') offset = 0;
        else if (word.length === 1) offset = militaryOffset(lower);
        else if (word.length > 0) throw refuse(`the time zone abbreviation "${word}" in $dateFromString`);
      }
      if (offset === undefined) {
        t.z = 0;
        this.error('The timezone could not be found in the database', begin, true);
      } else {
        t.zoneType = ZONE_ABBR;
        t.z = offset;
        t.abbr = word.toUpperCase();
      }
    }
    while (this.at(this.ptr) === 41) this.ptr++;
  }

  /** timelib_parse_tz_cor: H, HH, H:M, H:MM, HH:M, HHMM, HH:MM, HHMMSS, HH:MM:SS (seconds). */
  private tzCorrection(): number | undefined {
    const begin = this.ptr;
    while (isDigit(this.at(this.ptr)) || this.at(this.ptr) === 58) this.ptr++;
    const text = this.str.toString('latin1', begin, this.ptr);
    const lead = (s: string): number => Number(/^\d*/.exec(s)![0] || '0');
    switch (text.length) {
      case 1:
      case 2:
        return lead(text) * 3600;
      case 3:
      case 4:
        if (text[1] === ':') return lead(text) * 3600 + lead(text.slice(2)) * 60;
        if (text[2] === ':') return lead(text) * 3600 + lead(text.slice(3)) * 60;
        return Math.trunc(lead(text) / 100) * 3600 + (lead(text) % 100) * 60;
      case 5:
        return text[2] === ':' ? lead(text) * 3600 + lead(text.slice(3)) * 60 : undefined;
      case 6: {
        const n = lead(text);
        return Math.trunc(n / 10000) * 3600 + (Math.trunc(n / 100) % 100) * 60 + (n % 100);
      }
      case 8:
        return text[2] === ':' && text[5] === ':' ? lead(text) * 3600 + lead(text.slice(3)) * 60 + lead(text.slice(6)) : undefined;
      default:
        return undefined;
    }
  }

  /** C's strtol in base 10 from a position (0 when there are no digits). */
  private strtol(from: number): number {
    let k = from;
    while ([32, 9, 10, 11, 12, 13].includes(this.at(k))) k++;
    const negative = this.at(k) === 45;
    if (this.at(k) === 43 || this.at(k) === 45) k++;
    const start = k;
    while (isDigit(this.at(k))) k++;
    const n = k > start ? Number(this.str.toString('latin1', start, k)) : 0;
    // sMIN's (int)(minutes * 60) wraps beyond an int32.
    if (n * 60 > 2147483647) throw refuse('$dateFromString of an offset in minutes beyond an int32 of seconds');
    return negative ? -n : n;
  }

  /** timelib_parse_tz_minutes: ±minutes. */
  private zoneMinutes(begin: number): void {
    const t = this.t;
    const sign = this.at(this.ptr);
    if (sign !== 43 && sign !== 45) {
      this.error('Invalid timezone offset in minutes', begin);
      return;
    }
    this.ptr++;
    while (isDigit(this.at(this.ptr))) this.ptr++;
    // strtol reads from after the sign on its own: blanks, a second sign and digits too.
    const minutes = this.strtol(begin + 1);
    t.zoneType = ZONE_OFFSET;
    t.z = (sign === 45 ? -minutes : minutes) * 60;
  }
}

/** timelib_date_from_isodate: days since the epoch of an ISO week date. */
function isoDays(isoYear: number, isoWeek: number, isoDay: number): number {
  const jan1 = daysFromCivil(isoYear, 1, 1);
  const dow = (((jan1 + 4) % 7) + 7) % 7; // 0 = Sunday
  return jan1 - (dow > 4 ? dow - 7 : dow) + (isoWeek - 1) * 7 + isoDay;
}

// ---------------------------------------------------------------------------------------------
// timelib_strtotime, for the ISO 8601 forms

const ISO_FORM =
  /^(\d{4})-(0\d|1[0-2])-(0\d|[12]\d|3[01])(?:(?:[Tt]| +)([01]\d|2[0-4]):([0-5]\d)(?::([0-5]\d|60)(?:\.(\d+))?)?(?: *(?:([A-Za-z]{1,3})|(?:GMT)?([+-])([01]\d|2[0-4])(?::?([0-5]\d))?))?)?$/;

/** C's isspace. */
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

function strtotime(text: string): Parsed {
  const t = newParsed();
  if (text.length === 0) {
    t.errors.push({ position: 0, text: 'Empty string', character: 0 });
    return t;
  }
  let a = 0;
  let b = text.length - 1;
  while (a < b && isSpace(text[a]!)) a++;
  while (b > a && isSpace(text[b]!)) b--;
  const trimmed = text.slice(a, b + 1);
  if (trimmed.length === 1 && isSpace(trimmed)) return t;
  const m = ISO_FORM.exec(trimmed);
  if (m === null) throw refuse('$dateFromString without a format of a string other than an ISO 8601 date and time');
  t.y = Number(m[1]);
  t.m = Number(m[2]);
  t.d = Number(m[3]);
  if (m[4] !== undefined) {
    t.h = Number(m[4]);
    t.i = Number(m[5]);
    t.s = m[6] === undefined ? 0 : Number(m[6]);
    // timelib_get_frac_nr: the digits as a double, scaled to microseconds.
    if (m[7] !== undefined) t.us = Math.trunc(Number(m[7]) * Math.pow(10, 6 - m[7].length));
  }
  if (m[8] !== undefined) {
    const lower = m[8].toLowerCase();
    const offset = lower === 'utc' || lower === 'gmt' ? 0 : m[8].length === 1 ? militaryOffset(lower) : undefined;
    if (offset === undefined) throw refuse(`the time zone abbreviation "${m[8]}" in $dateFromString`);
    t.zoneType = ZONE_ABBR;
    t.z = offset;
    t.abbr = m[8].toUpperCase();
  } else if (m[9] !== undefined) {
    t.zoneType = ZONE_OFFSET;
    const offset = Number(m[10]) * 3600 + (m[11] === undefined ? 0 : Number(m[11]) * 60);
    t.z = m[9] === '-' ? -offset : offset;
  }
  // The checks after the scan; the scanner's last token starts one past the string's end.
  const end = Buffer.byteLength(trimmed) + 1;
  if (t.h !== undefined && !validTime(t.h, t.i!, t.s!)) t.warnings.push({ position: end, text: 'The parsed time was invalid', character: 0 });
  if (!validDate(t.y, t.m, t.d)) t.warnings.push({ position: end, text: 'The parsed date was invalid', character: 0 });
  return t;
}

// ---------------------------------------------------------------------------------------------
// TimeZoneDatabase::fromString

function conversionFailure(message: string): MongoError {
  return new MongoError(ErrorCodes.ConversionFailure, message);
}

function messageText(m: Message): string {
  if (m.character >= 0x80) throw refuse('$dateFromString errors that quote a non-ASCII byte');
  const text = m.tzNotFound === true ? 'passing a time zone identifier as part of the string is not allowed' : m.text;
  return `; ${m.position}: ${text} '${String.fromCharCode(m.character)}'`;
}

function fromString(dateString: string, zone: TimeZone, format: string | undefined): Date {
  if (dateString.includes('\0')) throw refuse('$dateFromString of a string holding a NUL character');
  const t = format === undefined ? strtotime(dateString) : new FormatParser(Buffer.from(dateString, 'utf8')).parse(Buffer.from(format, 'utf8'));
  if (t.errors.length > 0 || t.warnings.length > 0) {
    let text = `Error parsing date string '${dateString}'`;
    for (const e of t.errors) text += messageText(e);
    for (const w of t.warnings) text += messageText(w);
    throw conversionFailure(text);
  }
  if (t.h === undefined && t.i === undefined && t.s === undefined) {
    t.h = t.i = t.s = 0;
    t.us = 0;
  }
  if (t.y === undefined || t.m === undefined || t.d === undefined || t.h === undefined || t.i === undefined || t.s === undefined) {
    throw conversionFailure(`an incomplete date/time string has been found, with elements missing: "${dateString}"`);
  }
  if (zone.kind !== 'utc') {
    if (t.zoneType === ZONE_OFFSET) throw conversionFailure('you cannot pass in a date/time string with GMT offset together with a timezone argument');
    if (t.zoneType === ZONE_ABBR) {
      throw conversionFailure(`you cannot pass in a date/time string with time zone information ('${t.abbr}') together with a timezone argument`);
    }
  }
  const local = daysFromCivil(t.y, t.m, t.d) * 86400 + t.h * 3600 + t.i * 60 + t.s;
  const sse = t.zoneType !== ZONE_NONE ? local - t.z : localToUtc(zone, local, epochDst(zone));
  // Seconds and microseconds are summed, then truncated to milliseconds (toward zero).
  const us = t.us ?? 0;
  return resultDate(sse * 1000 + (sse < 0 ? Math.ceil(us / 1000) : Math.floor(us / 1000)));
}

// ---------------------------------------------------------------------------------------------
// $dateFromString

function parseDateFromString(arg: unknown, ctx: ParseContext): Node {
  if (!isArgumentObject(arg)) {
    throw fail(LocationCodes.DateFromStringNotObject, `$dateFromString only supports an object as an argument, found: ${typeName(arg)}`);
  }
  let dateString: Node | undefined;
  let timezone: Node | undefined;
  let format: Node | undefined;
  let onNull: Node | undefined;
  let onError: Node | undefined;
  for (const k of Object.keys(arg)) {
    if (k === 'format') format = ctx.parse(arg[k]);
    else if (k === 'dateString') dateString = ctx.parse(arg[k]);
    else if (k === 'timezone') timezone = ctx.parse(arg[k]);
    else if (k === 'onNull') onNull = ctx.parse(arg[k]);
    else if (k === 'onError') onError = ctx.parse(arg[k]);
    else throw fail(LocationCodes.DateFromStringUnknownArgument, `Unrecognized argument to $dateFromString: ${k}`);
  }
  if (dateString === undefined) throw fail(LocationCodes.DateFromStringMissingDateString, "Missing 'dateString' parameter to $dateFromString");
  const stringEval = dateString.evaluate;
  const formatEval = format?.evaluate;
  const tzEval = timezone?.evaluate;
  const onNullEval = onNull?.evaluate;
  const onErrorEval = onError?.evaluate;
  return computed(
    (s) => {
      const ds = stringEval(s);
      let f: unknown;
      if (formatEval !== undefined) {
        f = formatEval(s);
        if (!nullish(f)) {
          if (typeof f !== 'string') {
            throw fail(
              LocationCodes.DateFromStringFormatNotString,
              `$dateFromString requires that 'format' be a string, found: ${typeName(f)} with value ${valueText(f)}`,
            );
          }
          validateFormat(f);
        }
      }
      const zone = tzEval === undefined ? UTC_ZONE : makeTimeZone(tzEval(s));
      if (nullish(ds)) return onNullEval !== undefined ? onNullEval(s) : null;
      try {
        if (typeof ds !== 'string') {
          throw conversionFailure(`$dateFromString requires that 'dateString' be a string, found: ${typeName(ds)} with value ${valueText(ds)}`);
        }
        if (zone === null) return null;
        if (formatEval !== undefined) {
          if (nullish(f)) return null;
          return fromString(ds, zone, f as string);
        }
        return fromString(ds, zone, undefined);
      } catch (e) {
        if (onErrorEval !== undefined && e instanceof MongoError && e.code === ErrorCodes.ConversionFailure) return onErrorEval(s);
        throw e;
      }
    },
    [dateString, format, timezone, onNull, onError],
  );
}

export const dateFromStringOperators: OperatorTable = {
  $dateFromString: parseDateFromString,
};
