// The date expression family with time zones (src/query/expression/date.ts, timeZone.ts,
// dateFromString.ts, dateArithmetic.ts). Expected values are mongod 7.0's: the jstests of
// jstests/aggregation/expressions (date_add_subtract.js, ...), and for the parsing and local-time
// rules, timelib (the library mongod calls) run on the same inputs.
import { BSON, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { compileExpression, scopeFor } from '../../../src/query/expression/compile.js';

const NOW = new Date('2024-05-06T07:08:09.010Z');
const D = (s: string): Date => new Date(s);

function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), { promoteValues: false, bsonRegExp: true });
}

function ev(expr: unknown, doc: Document = {}): unknown {
  return compileExpression(expr).evaluate(scopeFor(stored(doc), NOW));
}

/** An ISO text for dates, `type:value` for numbers, JSON otherwise. */
function show(v: unknown): string {
  if (v instanceof Date) return `"${v.toISOString()}"`;
  if (v instanceof Int32) return `int:${v.value}`;
  if (v instanceof Long) return `long:${v.toString()}`;
  return JSON.stringify(v);
}

const sh = (expr: unknown, doc: Document = {}): string => show(ev(expr, doc));

function err(expr: unknown, doc: Document = {}): { code: number; message: string } {
  try {
    ev(expr, doc);
  } catch (e) {
    if (e instanceof MongoError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('time zones', () => {
  const d = D('2021-07-01T03:30:00Z');
  test('Olson identifiers with daylight-saving rules, fixed offsets, UTC', () => {
    expect(sh({ $hour: { date: d, timezone: 'America/New_York' } })).toBe('int:23');
    expect(sh({ $dayOfMonth: { date: d, timezone: 'America/New_York' } })).toBe('int:30');
    expect(sh({ $hour: { date: D('2021-01-01T03:30:00Z'), timezone: 'America/New_York' } })).toBe('int:22');
    expect(sh({ $hour: { date: d, timezone: 'Europe/Paris' } })).toBe('int:5');
    expect(sh({ $minute: { date: d, timezone: 'Asia/Kolkata' } })).toBe('int:0');
    expect(sh({ $hour: { date: d, timezone: 'Australia/Lord_Howe' } })).toBe('int:14');
    expect(sh({ $hour: { date: d, timezone: 'US/Eastern' } })).toBe('int:23');
    expect(sh({ $hour: { date: d, timezone: 'Etc/GMT+5' } })).toBe('int:22');
    expect(sh({ $hour: { date: d, timezone: 'UTC' } })).toBe('int:3');
    expect(sh({ $hour: { date: d, timezone: '+05:30' } })).toBe('int:9');
    expect(sh({ $minute: { date: d, timezone: '-0130' } })).toBe('int:0');
    // parseUtcOffset does not range-check its digits: "+0099" is 99 minutes.
    expect(sh({ $minute: { date: d, timezone: '+0099' } })).toBe('int:9');
    expect(sh({ $year: { date: D('1800-06-01T00:00:00Z'), timezone: 'America/New_York' } })).toBe('int:1800');
  });

  test('unknown identifiers are 40485, per document; names are case-sensitive', () => {
    for (const tz of ['america/new_york', 'Mars/Olympus', '+5', '05:00', 'Z']) {
      expect(err({ $hour: { date: d, timezone: tz } })).toEqual({ code: 40485, message: `unrecognized time zone identifier: "${tz}"` });
    }
    const c = compileExpression({ $hour: { date: '$d', timezone: 'Nowhere/Land' } });
    expect(c.evaluate(scopeFor({ d: null }, NOW))).toBe(null);
  });

  test('extractors name themselves for a timezone that is not a string (40533); a nullish one is null', () => {
    expect(err({ $year: { date: d, timezone: 5 } })).toEqual({ code: 40533, message: '$year requires a string for the timezone argument, but was given a int (5)' });
    expect(err({ $week: { date: d, timezone: [1] } })).toEqual({
      code: 40533,
      message: '$week requires a string for the timezone argument, but was given a array ([1])',
    });
    expect(sh({ $year: { date: d, timezone: '$missing' } })).toBe('null');
    expect(err({ $year: { date: 'x', timezone: 'Nowhere' } }).code).toBe(16006);
  });

  test('$isoWeekYear is a long; the other parts are ints', () => {
    expect(sh({ $isoWeekYear: D('2021-01-03T12:00:00Z') })).toBe('long:2020');
    expect(sh({ $isoWeekYear: { date: D('2021-01-03T23:30:00Z'), timezone: 'Europe/Paris' } })).toBe('long:2021');
    expect(sh({ $isoWeek: { date: D('2021-01-03T23:30:00Z'), timezone: 'Europe/Paris' } })).toBe('int:1');
    expect(sh({ $dayOfWeek: { date: D('2021-01-03T23:30:00Z'), timezone: 'Europe/Paris' } })).toBe('int:2');
    expect(sh({ $week: new Timestamp({ t: 1609459200, i: 1 }) })).toBe('int:0');
    expect(sh({ $second: new ObjectId('5ab9c3da31c2ab715d421285') })).toBe('int:58');
  });
});

describe('$dateToString and $dateToParts in zones', () => {
  const d = D('2021-07-01T12:34:56.789Z');
  test('formats, %z and %Z', () => {
    expect(sh({ $dateToString: { date: d, timezone: 'America/New_York', format: '%Y-%m-%d %H:%M:%S.%L %z %Z' } })).toBe('"2021-07-01 08:34:56.789 -0400 -240"');
    expect(sh({ $dateToString: { date: d, timezone: 'Asia/Kolkata', format: '%z %Z' } })).toBe('"+0530 330"');
    expect(sh({ $dateToString: { date: d, timezone: '-00:30', format: '%z %Z' } })).toBe('"-0030 -30"');
    expect(sh({ $dateToString: { date: d, format: '%z %Z' } })).toBe('"+0000 0"');
    // An offset with seconds (local mean time) is truncated toward zero.
    expect(sh({ $dateToString: { date: D('1800-01-01T00:00:00Z'), timezone: 'America/New_York', format: '%H:%M:%S %z %Z' } })).toBe(
      '"19:03:58 -0456 -296"',
    );
    expect(sh({ $dateToString: { date: d, timezone: 'Europe/Paris', format: '%j %w %u %U %V %G %%' } })).toBe('"182 5 4 26 26 2021 %"');
  });

  test('7.0 writes the default format, with its "Z", in every zone', () => {
    expect(sh({ $dateToString: { date: d, timezone: 'America/New_York' } })).toBe('"2021-07-01T08:34:56.789Z"');
    expect(sh({ $dateToString: { date: d, timezone: '+01:00' } })).toBe('"2021-07-01T13:34:56.789Z"');
  });

  test('errors and refusals', () => {
    expect(err({ $dateToString: { date: d, timezone: 'Foo' } })).toEqual({ code: 40485, message: 'unrecognized time zone identifier: "Foo"' });
    expect(err({ $dateToString: { date: d, timezone: 1 } })).toEqual({ code: 40517, message: 'timezone must evaluate to a string, found int' });
    expect(err({ $dateToString: { date: d, format: '%b' } }).code).toBe(115);
    expect(err({ $dateToString: { date: D('-000100-01-01T00:00:00Z'), format: '%Y' } })).toEqual({
      code: 18537,
      message: 'Could not convert date to string: date component was outside the supported range of 0-9999: -100',
    });
    // The timezone is read before a nullish date answers onNull.
    expect(err({ $dateToString: { date: null, timezone: 'Foo', onNull: 1 } }).code).toBe(40485);
    expect(sh({ $dateToString: { date: null, timezone: 'UTC', onNull: 'none' } })).toBe('"none"');
  });

  test('$dateToParts', () => {
    const parts = ev({ $dateToParts: { date: d, timezone: 'Australia/Sydney' } }) as Record<string, Int32>;
    expect(Object.values(parts).every((v) => v instanceof Int32)).toBe(true);
    expect(JSON.stringify(parts)).toBe('{"year":2021,"month":7,"day":1,"hour":22,"minute":34,"second":56,"millisecond":789}');
    const iso = ev({ $dateToParts: { date: D('2021-01-03T23:30:00Z'), timezone: 'Europe/Paris', iso8601: true } }) as Record<string, Int32>;
    expect(Object.entries(iso).map(([k, v]) => `${k}:${v.value}`)).toEqual([
      'isoWeekYear:2021',
      'isoWeek:1',
      'isoDayOfWeek:1',
      'hour:0',
      'minute:30',
      'second:0',
      'millisecond:0',
    ]);
    expect(sh({ $dateToParts: { date: d, timezone: null } })).toBe('null');
  });
});

describe('$dateFromParts', () => {
  test('calendar and ISO week forms, carries through the calendar', () => {
    expect(sh({ $dateFromParts: { year: 2017, month: 2, day: 8, hour: 12 } })).toBe('"2017-02-08T12:00:00.000Z"');
    expect(sh({ $dateFromParts: { year: 2021, month: 14, day: -3, hour: 25, timezone: 'Asia/Kolkata' } })).toBe('"2022-01-28T19:30:00.000Z"');
    expect(sh({ $dateFromParts: { year: 2017, month: 0, day: 0, minute: -1, second: 3600, millisecond: -1 } })).toBe('"2016-11-30T00:58:59.999Z"');
    expect(sh({ $dateFromParts: { year: 2017, second: L(100000000000) } })).toBe('"5185-11-16T09:46:40.000Z"');
    expect(sh({ $dateFromParts: { isoWeekYear: 2021, isoWeek: 1, isoDayOfWeek: 1 } })).toBe('"2021-01-04T00:00:00.000Z"');
    expect(sh({ $dateFromParts: { isoWeekYear: 2017, isoWeek: 53, isoDayOfWeek: 8, timezone: '-02' } })).toBe('"2018-01-08T02:00:00.000Z"');
    expect(sh({ $dateFromParts: { year: 1, month: 1, day: 1 } })).toBe('"0001-01-01T00:00:00.000Z"');
    expect(sh({ $dateFromParts: { year: F(2017), month: D128('2'), day: L(3) } })).toBe('"2017-02-03T00:00:00.000Z"');
  });

  test("local times in a daylight-saving gap move forward, ambiguous ones take the later (timelib's rule)", () => {
    const ny = (day: number, month: number, hour: number, minute = 30): string =>
      sh({ $dateFromParts: { year: 2021, month, day, hour, minute, timezone: 'America/New_York' } });
    expect(ny(14, 3, 1)).toBe('"2021-03-14T06:30:00.000Z"');
    expect(ny(14, 3, 2)).toBe('"2021-03-14T07:30:00.000Z"');
    expect(ny(14, 3, 3)).toBe('"2021-03-14T07:30:00.000Z"');
    expect(ny(7, 11, 0)).toBe('"2021-11-07T04:30:00.000Z"');
    expect(ny(7, 11, 1)).toBe('"2021-11-07T06:30:00.000Z"');
    expect(ny(7, 11, 2)).toBe('"2021-11-07T07:30:00.000Z"');
    const paris = (day: number, month: number, hour: number): string =>
      sh({ $dateFromParts: { year: 2021, month, day, hour, minute: 30, timezone: 'Europe/Paris' } });
    expect(paris(28, 3, 2)).toBe('"2021-03-28T01:30:00.000Z"');
    expect(paris(31, 10, 2)).toBe('"2021-10-31T01:30:00.000Z"');
    expect(paris(31, 10, 1)).toBe('"2021-10-30T23:30:00.000Z"');
    expect(sh({ $dateFromParts: { year: 2021, month: 4, day: 4, hour: 2, minute: 30, timezone: 'Australia/Sydney' } })).toBe('"2021-04-03T16:30:00.000Z"');
    expect(sh({ $dateFromParts: { year: 2021, month: 10, day: 3, hour: 2, minute: 30, timezone: 'Australia/Sydney' } })).toBe('"2021-10-02T16:30:00.000Z"');
  });

  test('nullish parts and timezone are null; errors in evaluation order', () => {
    expect(sh({ $dateFromParts: { year: 2017, month: null } })).toBe('null');
    expect(sh({ $dateFromParts: { year: 2017, timezone: '$none' } })).toBe('null');
    expect(sh({ $dateFromParts: { year: 'x', hour: null } })).toBe('null');
    expect(err({ $dateFromParts: { year: 2017, month: 1.5 } })).toEqual({ code: 40515, message: "'month' must evaluate to an integer, found double with value 1.5" });
    expect(err({ $dateFromParts: { year: 2017, hour: 40000 } })).toEqual({
      code: 31034,
      message: "'hour' must evaluate to a value in the range [-32768, 32767]; value 40000 is not in range",
    });
    expect(err({ $dateFromParts: { year: 10000 } })).toEqual({ code: 40523, message: "'year' must evaluate to an integer in the range 1 to 9999, found 10000" });
    expect(err({ $dateFromParts: { isoWeekYear: 0 } })).toEqual({
      code: 31095,
      message: "'isoWeekYear' must evaluate to an integer in the range 1 to 9999, found 0",
    });
    expect(err({ $dateFromParts: { year: 0, timezone: 'Foo' } }).code).toBe(40485);
    expect(err({ $dateFromParts: { year: 2017, minute: 'a', timezone: 'Foo' } }).code).toBe(40515);
    expect(err({ $dateFromParts: { month: 1 } })).toEqual({ code: 40516, message: "$dateFromParts requires either 'year' or 'isoWeekYear' to be present" });
    expect(err({ $dateFromParts: { year: 1, isoWeek: 1 } })).toEqual({ code: 40489, message: '$dateFromParts does not allow mixing natural dates with ISO dates' });
    expect(err({ $dateFromParts: { isoWeekYear: 1, day: 1 } })).toEqual({ code: 40525, message: '$dateFromParts does not allow mixing ISO dates with natural dates' });
    expect(err({ $dateFromParts: { year: 1, x: 1 } })).toEqual({ code: 40518, message: 'Unrecognized argument to $dateFromParts: x' });
    expect(err({ $dateFromParts: 1 })).toEqual({ code: 40519, message: '$dateFromParts only supports an object as its argument' });
    expect(err({ $dateFromParts: { year: 2017, second: L('9000000000000000') } }).code).toBe(115);
  });

  test('property: the local time of any instant comes back through $dateToParts then $dateFromParts', () => {
    const zones = ['America/New_York', 'Europe/Paris', 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Kolkata', '+05:45', 'UTC'];
    fc.assert(
      fc.property(fc.integer({ min: -2e12, max: 4e12 }), fc.constantFrom(...zones), (ms, timezone) => {
        const parts = ev({ $dateToParts: { date: new Date(ms), timezone } }) as Record<string, Int32>;
        const args = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.value]));
        const back = ev({ $dateFromParts: { ...args, timezone } }) as Date;
        const again = ev({ $dateToParts: { date: back, timezone } }) as Record<string, Int32>;
        expect(Object.values(again).map((v) => v.value)).toEqual(Object.values(parts).map((v) => v.value));
      }),
    );
  });
});

describe('$dateFromString', () => {
  const fs = (dateString: unknown, more: Record<string, unknown> = {}): string => sh({ $dateFromString: { dateString, ...more } });
  const fsErr = (dateString: unknown, more: Record<string, unknown> = {}): { code: number; message: string } =>
    err({ $dateFromString: { dateString, ...more } });

  test('the ISO 8601 forms without a format', () => {
    expect(fs('2017-02-08T12:10:40.787Z')).toBe('"2017-02-08T12:10:40.787Z"');
    expect(fs('2017-02-08')).toBe('"2017-02-08T00:00:00.000Z"');
    expect(fs('2017-02-08 12:10')).toBe('"2017-02-08T12:10:00.000Z"');
    expect(fs(' 2017-02-08T12:30:45.123456789 +05:30 ')).toBe('"2017-02-08T07:00:45.123Z"');
    expect(fs('2017-02-08T10:00:00GMT-0300')).toBe('"2017-02-08T13:00:00.000Z"');
    expect(fs('2017-02-08T10:00:00 utc')).toBe('"2017-02-08T10:00:00.000Z"');
    expect(fs('2017-02-08T10:00:00A')).toBe('"2017-02-08T09:00:00.000Z"');
    expect(fs('1969-12-31T23:59:59.9995Z')).toBe('"1970-01-01T00:00:00.000Z"');
    expect(fs('2021-11-07T01:30:00', { timezone: 'America/New_York' })).toBe('"2021-11-07T06:30:00.000Z"');
    expect(fs('2017-02-08T12:00:00', { timezone: '+03' })).toBe('"2017-02-08T09:00:00.000Z"');
    // "+00" is mongod's UTC zone, so a zone in the string is allowed with it.
    expect(fs('2017-02-08T12:00:00+01:00', { timezone: '+00' })).toBe('"2017-02-08T11:00:00.000Z"');
  });

  test('formats', () => {
    expect(fs('2017 sept 08', { format: '%Y %B %d' })).toBe('"2017-09-08T00:00:00.000Z"');
    expect(fs('08/IX/2017', { format: '%d/%b/%Y' })).toBe('"2017-09-08T00:00:00.000Z"');
    expect(fs('2017-02-08 +0530', { format: '%Y-%m-%d %z' })).toBe('"2017-02-07T18:30:00.000Z"');
    expect(fs('2017-02-08 -330', { format: '%Y-%m-%d %Z' })).toBe('"2017-02-08T05:30:00.000Z"');
    expect(fs('2017-W05-3', { format: '%G-W%V-%u' })).toBe('"2017-02-01T00:00:00.000Z"');
    expect(fs('2017-02-08T12:30:45.5Z', { format: '%Y-%m-%dT%H:%M:%S.%L%z' })).toBe('"2017-02-08T12:30:45.500Z"');
    expect(fs('2021-11-07 01:30', { format: '%Y-%m-%d %H:%M', timezone: 'America/New_York' })).toBe('"2021-11-07T06:30:00.000Z"');
  });

  test("timelib's errors in mongod's ConversionFailure text", () => {
    const cases: [string, string | undefined, string][] = [
      ['2017-02-08', '%Y-%m', "7: Trailing data '-'"],
      ['2017-02', '%Y-%m-%d', "7: Not enough data available to satisfy format '\0'"],
      ['x2017-02-08', '%Y-%m-%d', "0: Unexpected data found. 'x'"],
      ['2017-13-08', '%Y-%m-%d', "10: The parsed date was invalid '\0'"],
      ['2017-02-08 25:61:00', '%Y-%m-%d %H:%M:%S', "19: The parsed time was invalid '\0'"],
      ['08/02/2017 12:5', '%d/%m/%Y %H:%M', "14: A two digit minute could not be found '5'"],
      ['2017 Foo 08', '%Y %b %d', "5: A textual month could not be found 'F'"],
      ['2017-02-08 Europe/Paris', '%Y-%m-%d %z', "11: passing a time zone identifier as part of the string is not allowed 'E'"],
      ['2017-02-08 x', '%Y-%m-%d %Z', "11: Invalid timezone offset in minutes 'x'; 11: Trailing data 'x'"],
      ['2017 W54', '%G W%V', "6: ISO Week must be between 1 and 53 '5'"],
      ['2017 5', '%Y %u', "6: Mixing of ISO dates with natural dates is not allowed '\0'; 6: The parsed date was invalid '\0'"],
      ['2017-02-08', '', "0: Trailing data '2'"],
      ['2017-02-30', undefined, "11: The parsed date was invalid '\0'"],
      ['2017-02-08 24:00', undefined, "17: The parsed time was invalid '\0'"],
      ['', undefined, "0: Empty string '\0'"],
    ];
    for (const [s, format, tail] of cases) {
      expect(fsErr(s, format === undefined ? {} : { format })).toEqual({ code: 241, message: `Error parsing date string '${s}'; ${tail}` });
    }
    expect(fsErr('12:30', { format: '%H:%M' })).toEqual({ code: 241, message: 'an incomplete date/time string has been found, with elements missing: "12:30"' });
    expect(fsErr('   ')).toEqual({ code: 241, message: 'an incomplete date/time string has been found, with elements missing: "   "' });
    expect(fsErr('2017-02-08 +0100', { format: '%Y-%m-%d %z', timezone: 'America/New_York' })).toEqual({
      code: 241,
      message: 'you cannot pass in a date/time string with GMT offset together with a timezone argument',
    });
    expect(fsErr('2017-02-08T00:00:00z', { timezone: 'GMT' })).toEqual({
      code: 241,
      message: "you cannot pass in a date/time string with time zone information ('Z') together with a timezone argument",
    });
    expect(fsErr(5)).toEqual({ code: 241, message: "$dateFromString requires that 'dateString' be a string, found: int with value 5" });
  });

  test('onError, onNull, and what neither catches', () => {
    expect(fs('nope-2017', { format: '%Y', onError: 'bad' })).toBe('"bad"');
    expect(ev({ $dateFromString: { dateString: 5, onError: '$x' } })).toBeUndefined();
    expect(fs(null, { onNull: 'n', onError: 'e' })).toBe('"n"');
    expect(fs('$missing', { onNull: 'n' })).toBe('"n"');
    expect(fs('2017-02-08', { timezone: null })).toBe('null');
    expect(fs('2017-02-08', { format: null })).toBe('null');
    expect(err({ $dateFromString: { dateString: null, timezone: 'Foo', onNull: 1 } }).code).toBe(40485);
    expect(err({ $dateFromString: { dateString: 'x', format: '%j', onError: 1 } })).toEqual({ code: 18536, message: "Invalid format character '%j' in format string" });
    expect(err({ $dateFromString: { dateString: 'x', format: 1 } })).toEqual({
      code: 40684,
      message: "$dateFromString requires that 'format' be a string, found: int with value 1",
    });
    expect(err({ $dateFromString: { dateString: 'x', format: 'a%' } }).code).toBe(18535);
    expect(err({ $dateFromString: 'x' })).toEqual({ code: 40540, message: '$dateFromString only supports an object as an argument, found: string' });
    expect(err({ $dateFromString: { dateString: 'x', y: 1 } })).toEqual({ code: 40541, message: 'Unrecognized argument to $dateFromString: y' });
    expect(err({ $dateFromString: {} })).toEqual({ code: 40542, message: "Missing 'dateString' parameter to $dateFromString" });
  });

  test('forms timelib reads that are not implemented are refused (115)', () => {
    for (const s of ['July 4, 2017', 'tomorrow', '2017-02-08T10:00:00 EST', '@1486512000', '2017-2-8']) {
      expect(fsErr(s).code).toBe(115);
    }
    expect(fsErr('2017-02-08 est', { format: '%Y-%m-%d %z' }).code).toBe(115);
  });
});

describe('$dateAdd and $dateSubtract', () => {
  const doc = { date: D('2020-12-31T12:10:05Z'), unit: 'month', timezone: 'Europe/Paris' };
  const add = (startDate: unknown, unit: unknown, amount: unknown, timezone?: string): string =>
    sh({ $dateAdd: { startDate, unit, amount, ...(timezone === undefined ? {} : { timezone }) } }, doc);
  const sub = (startDate: unknown, unit: unknown, amount: unknown, timezone?: string): string =>
    sh({ $dateSubtract: { startDate, unit, amount, ...(timezone === undefined ? {} : { timezone }) } }, doc);

  test("date_add_subtract.js's results", () => {
    expect(add(D('2020-11-30T12:10:05Z'), 'day', 1)).toBe('"2020-12-01T12:10:05.000Z"');
    expect(add(D('2020-10-24T18:10:00Z'), 'hour', 24, 'Europe/Paris')).toBe('"2020-10-25T18:10:00.000Z"');
    expect(add(D('2020-10-24T18:10:00Z'), 'day', 1, 'Europe/Paris')).toBe('"2020-10-25T19:10:00.000Z"');
    expect(add(D('2021-01-30T23:30:00Z'), 'month', 1, 'Europe/Paris')).toBe('"2021-02-27T23:30:00.000Z"');
    expect(add('$date', 'week', 1)).toBe('"2021-01-07T12:10:05.000Z"');
    expect(add('$date', 'millisecond', 1050)).toBe('"2020-12-31T12:10:06.050Z"');
    expect(add('$date', '$unit', 1)).toBe('"2021-01-31T12:10:05.000Z"');
    expect(sub('$date', 'quarter', 2)).toBe('"2020-06-30T12:10:05.000Z"');
    expect(sub('$date', '$unit', 3, '$timezone')).toBe('"2020-09-30T11:10:05.000Z"');
    expect(sub('$date', 'second', 125)).toBe('"2020-12-31T12:08:00.000Z"');
    expect(sub(D('2021-01-31T03:00:00Z'), 'month', 2)).toBe('"2020-11-30T03:00:00.000Z"');
    expect(sub(D('2021-01-31T03:00:00Z'), 'month', 2, 'America/New_York')).toBe('"2020-12-01T03:00:00.000Z"');
    expect(sh({ $dateAdd: { startDate: '$dateSent', unit: 'day', amount: 1 } }, doc)).toBe('null');
  });

  test('amounts of every integral type; a nullish unit, amount or timezone is null', () => {
    expect(add('$date', 'day', L(2))).toBe('"2021-01-02T12:10:05.000Z"');
    expect(add('$date', 'day', F(-1))).toBe('"2020-12-30T12:10:05.000Z"');
    expect(add('$date', 'day', D128('1.0'))).toBe('"2021-01-01T12:10:05.000Z"');
    expect(add('$date', null, 1)).toBe('null');
    expect(add('$date', 'day', null)).toBe('null');
    expect(sh({ $dateAdd: { startDate: '$date', unit: 'day', amount: 1, timezone: null } }, doc)).toBe('null');
    expect(add(new Timestamp({ t: 86400, i: 0 }), 'day', 1)).toBe('"1970-01-03T00:00:00.000Z"');
  });

  test('7.0 loses a second when adding to a date before 1970 with a fraction of a second', () => {
    expect(add(D('1969-12-31T23:59:59.999Z'), 'day', 1)).toBe('"1970-01-01T23:59:58.999Z"');
    expect(add(D('1969-12-31T23:59:59.999Z'), 'hour', 1)).toBe('"1970-01-01T00:59:58.999Z"');
    expect(add(D('1969-12-31T23:59:59.999Z'), 'millisecond', 1)).toBe('"1970-01-01T00:00:00.000Z"');
    expect(add(D('1969-12-31T23:59:59.000Z'), 'day', 1)).toBe('"1970-01-01T23:59:59.000Z"');
  });

  test('errors', () => {
    expect(err({ $dateAdd: { unit: 'second', amount: 120 } })).toEqual({ code: 5166402, message: '$dateAdd requires startDate, unit, and amount to be present' });
    expect(err({ $dateAdd: { startDate: 1, units: 'day', amount: 1 } })).toEqual({
      code: 5166401,
      message: 'Unrecognized argument to $dateAdd: units. Expected arguments are startDate, unit, amount, and optionally timezone.',
    });
    expect(err({ $dateSubtract: [] })).toEqual({ code: 5166400, message: '$dateSubtract expects an object as its argument' });
    expect(err({ $dateSubtract: { startDate: 'myBirthDate', unit: 'year', amount: 10 } })).toEqual({
      code: 5166403,
      message: '$dateSubtract requires startDate to be convertible to a date',
    });
    expect(err({ $dateAdd: { startDate: '$date', unit: 1, amount: 10 } }, doc)).toEqual({ code: 5166404, message: '$dateAdd expects string defining the time unit' });
    expect(err({ $dateAdd: { startDate: '$date', unit: 'epoch', amount: 10 } }, doc)).toEqual({ code: 9, message: 'unknown time unit value: epoch' });
    expect(err({ $dateSubtract: { startDate: '$date', unit: 'year', amount: 1.001 } }, doc)).toEqual({
      code: 5166405,
      message: '$dateSubtract expects integer amount of time units',
    });
    expect(err({ $dateSubtract: { startDate: '$date', unit: 'year', amount: 1, timezone: 'Unknown' } }, doc).code).toBe(40485);
    expect(err({ $dateAdd: { startDate: '$date', unit: 'year', amount: 584942418 } }, doc)).toEqual({
      code: 5976500,
      message: "invalid dateAdd 'amount' parameter value: 584942418 year",
    });
    expect(err({ $dateSubtract: { startDate: '$date', unit: 'day', amount: L('213503982335') } }, doc)).toEqual({
      code: 5976500,
      message: "invalid dateAdd 'amount' parameter value: -213503982335 day",
    });
    expect(err({ $dateAdd: { startDate: '$date', unit: 'year', amount: 584942417 } }, doc)).toEqual({ code: 5166406, message: 'dateAdd overflowed' });
    expect(err({ $dateSubtract: { startDate: '$date', unit: 'day', amount: L('-9223372036854775808') } }, doc)).toEqual({
      code: 6045000,
      message: "invalid $dateSubtract 'amount' parameter value: -9223372036854775808",
    });
    // A result mongod holds and a JavaScript Date does not.
    expect(err({ $dateAdd: { startDate: '$date', unit: 'year', amount: 300000 } }, doc).code).toBe(115);
  });
});

describe('$dateDiff', () => {
  const diff = (startDate: Date, endDate: Date, unit: string, more: Record<string, unknown> = {}): string =>
    sh({ $dateDiff: { startDate, endDate, unit, ...more } });

  test('units, weeks from startOfWeek, zones', () => {
    const a = D('2020-12-31T23:59:59.999Z');
    const b = D('2021-01-01T00:00:00.000Z');
    expect(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond'].map((u) => diff(a, b, u))).toEqual([
      'long:1',
      'long:1',
      'long:1',
      'long:0',
      'long:1',
      'long:1',
      'long:1',
      'long:1',
      'long:1',
    ]);
    expect(diff(b, a, 'year')).toBe('long:-1');
    expect(diff(a, b, 'year', { timezone: 'America/New_York' })).toBe('long:0');
    // 2021-01-02 is a Saturday, 2021-01-03 a Sunday.
    expect(diff(D('2021-01-02T12:00:00Z'), D('2021-01-03T12:00:00Z'), 'week')).toBe('long:1');
    expect(diff(D('2021-01-02T12:00:00Z'), D('2021-01-03T12:00:00Z'), 'week', { startOfWeek: 'MONDAY' })).toBe('long:0');
    expect(diff(D('2021-01-02T12:00:00Z'), D('2021-01-04T12:00:00Z'), 'week', { startOfWeek: 'mon' })).toBe('long:1');
    // Hours across a change of offset count elapsed hours; days count local dates.
    expect(diff(D('2021-03-13T12:00:00Z'), D('2021-03-14T12:00:00Z'), 'hour', { timezone: 'America/New_York' })).toBe('long:24');
    expect(diff(D('2021-03-14T04:59:00Z'), D('2021-03-14T05:00:00Z'), 'day', { timezone: 'America/New_York' })).toBe('long:1');
    expect(diff(D('2021-01-01T00:00:00Z'), D('2021-01-01T00:00:00Z'), 'hour', { timezone: 'Asia/Kolkata' })).toBe('long:0');
    expect(diff(D('-200000-01-01T00:00:00Z'), D('+200000-01-01T00:00:00Z'), 'millisecond')).toBe('long:12622780800000000');
  });

  test("date_diff.js's cases", () => {
    const pipeline = { $dateDiff: { startDate: '$startDate', endDate: '$endDate', unit: '$unit', timezone: '$timeZone', startOfWeek: '$startOfWeek' } };
    const some = D('2020-11-01T18:23:36Z');
    const cases: [Document, string | number][] = [
      [{ startDate: some, endDate: D('2020-11-02T00:00:00Z'), unit: 'hour', timeZone: 'America/New_York', startOfWeek: 'IGNORED' }, 'long:6'],
      [{ startDate: 'string', endDate: some, unit: 'hour', timeZone: 'UTC' }, 5166307],
      [{ endDate: 1, unit: 'century', timeZone: 'INVALID' }, 'null'],
      [{ startDate: some, endDate: 1, unit: 'hour', timeZone: 'UTC' }, 5166307],
      [{ startDate: '', unit: 'epoch', timeZone: 'INVALID' }, 'null'],
      [{ startDate: 1, endDate: 2, timeZone: 'INVALID' }, 'null'],
      [{ startDate: some, endDate: some, unit: 5, timeZone: 'UTC' }, 5439013],
      [{ startDate: some, endDate: some, unit: 'decade', timeZone: 'UTC' }, 5439014],
      [{ startDate: some, endDate: some, unit: 'hour', timeZone: null }, 'null'],
      [{ startDate: some, endDate: some, unit: 'hour', timeZone: 1 }, 40517],
      [{ startDate: some, endDate: some, unit: 'hour', timeZone: 'America/Invalid' }, 40485],
      [{ startDate: D('2021-01-24T18:23:36Z'), endDate: D('2021-01-25T02:23:36Z'), unit: 'week', timeZone: 'GMT', startOfWeek: 'MONDAY' }, 'long:1'],
      [{ startDate: D('2021-01-17T05:00:00Z'), endDate: D('2021-01-17T04:59:00Z'), unit: 'week', timeZone: 'America/New_York', startOfWeek: 'sunday' }, 'long:-1'],
      [{ startDate: 1, endDate: 2, unit: 'week', timeZone: 1 }, 'null'],
      [{ startDate: some, endDate: some, unit: 'week', timeZone: 'GMT', startOfWeek: 1 }, 5439015],
      [{ startDate: some, endDate: some, unit: 'hour', timeZone: 'GMT', startOfWeek: 1 }, 'long:0'],
      [{ startDate: some, endDate: some, unit: 'week', timeZone: 'GMT', startOfWeek: 'FRIDIE' }, 5439016],
    ];
    for (const [doc, expected] of cases) {
      if (typeof expected === 'number') expect(err(pipeline, doc).code).toBe(expected);
      else expect(sh(pipeline, doc)).toBe(expected);
    }
    expect(sh({ $dateDiff: { startDate: D('2021-01-24T18:23:36Z'), endDate: D('2021-01-25T02:23:36Z'), unit: 'week' } })).toBe('long:0');
  });

  test('nullish arguments, errors and their order', () => {
    const a = D('2021-01-01T00:00:00Z');
    expect(sh({ $dateDiff: { startDate: null, endDate: 1, unit: 1 } })).toBe('null');
    expect(sh({ $dateDiff: { startDate: a, endDate: a, unit: 'week', startOfWeek: null } })).toBe('null');
    expect(sh({ $dateDiff: { startDate: a, endDate: a, unit: 'day', startOfWeek: 1 } })).toBe('long:0');
    expect(err({ $dateDiff: { startDate: 1, endDate: a, unit: 'day', timezone: 'Foo' } })).toEqual({
      code: 40485,
      message: "$dateDiff parameter 'timezone' value parsing failed :: caused by :: unrecognized time zone identifier: \"Foo\"",
    });
    expect(err({ $dateDiff: { startDate: 1, endDate: a, unit: 'day' } })).toEqual({ code: 5166307, message: "$dateDiff requires 'startDate' to be a date, but got int" });
    expect(err({ $dateDiff: { startDate: a, endDate: 'x', unit: 'day' } })).toEqual({ code: 5166307, message: "$dateDiff requires 'endDate' to be a date, but got string" });
    expect(err({ $dateDiff: { startDate: a, endDate: a, unit: 5 } })).toEqual({ code: 5439013, message: "$dateDiff requires 'unit' to be a string, but got int" });
    expect(err({ $dateDiff: { startDate: a, endDate: a, unit: 'days' } })).toEqual({
      code: 5439014,
      message: "$dateDiff parameter 'unit' value cannot be recognized as a time unit: days",
    });
    expect(err({ $dateDiff: { startDate: a, endDate: a, unit: 'week', startOfWeek: 1 } })).toEqual({
      code: 5439015,
      message: "$dateDiff requires 'startOfWeek' to be a string, but got int",
    });
    expect(err({ $dateDiff: { startDate: a, endDate: a, unit: 'week', startOfWeek: 'Funday' } })).toEqual({
      code: 5439016,
      message: "$dateDiff parameter 'startOfWeek' value cannot be recognized as a day of a week: Funday",
    });
    expect(err({ $dateDiff: 1 })).toEqual({ code: 5166301, message: '$dateDiff only supports an object as its argument' });
    expect(err({ $dateDiff: { startDate: a, endDate: a, unit: 'day', x: 1 } })).toEqual({ code: 5166302, message: 'Unrecognized argument to $dateDiff: x' });
    expect(err({ $dateDiff: { endDate: a, unit: 'day' } })).toEqual({ code: 5166303, message: "Missing 'startDate' parameter to $dateDiff" });
    expect(err({ $dateDiff: { startDate: a, unit: 'day' } })).toEqual({ code: 5166304, message: "Missing 'endDate' parameter to $dateDiff" });
    expect(err({ $dateDiff: { startDate: a, endDate: a } })).toEqual({ code: 5166305, message: "Missing 'unit' parameter to $dateDiff" });
  });
});

describe('$dateTrunc', () => {
  const d = D('2021-03-14T12:34:56.789Z');
  const trunc = (unit: string, more: Record<string, unknown> = {}): string => sh({ $dateTrunc: { date: d, unit, ...more } });

  test('units, bins counted from 2000-01-01 local time, zones', () => {
    expect(trunc('millisecond', { binSize: 100 })).toBe('"2021-03-14T12:34:56.700Z"');
    expect(trunc('second', { binSize: 15 })).toBe('"2021-03-14T12:34:45.000Z"');
    expect(trunc('hour', { binSize: 5 })).toBe('"2021-03-14T08:00:00.000Z"');
    expect(trunc('day')).toBe('"2021-03-14T00:00:00.000Z"');
    expect(trunc('day', { timezone: 'America/New_York' })).toBe('"2021-03-14T05:00:00.000Z"');
    expect(trunc('week')).toBe('"2021-03-14T00:00:00.000Z"');
    expect(trunc('week', { timezone: 'America/New_York', startOfWeek: 'Monday' })).toBe('"2021-03-08T05:00:00.000Z"');
    expect(trunc('month', { binSize: 5 })).toBe('"2020-11-01T00:00:00.000Z"');
    expect(trunc('quarter', { timezone: 'Asia/Kolkata' })).toBe('"2020-12-31T18:30:00.000Z"');
    expect(trunc('year', { binSize: L(3) })).toBe('"2021-01-01T00:00:00.000Z"');
    expect(trunc('hour', { timezone: 'Asia/Kolkata' })).toBe('"2021-03-14T12:30:00.000Z"');
    expect(sh({ $dateTrunc: { date: D('1969-07-20T20:17:40Z'), unit: 'year', binSize: 10 } })).toBe('"1960-01-01T00:00:00.000Z"');
  });

  test("date_trunc.js's cases", () => {
    const pipeline = { $dateTrunc: { date: '$date', unit: '$unit', binSize: '$binSize', timezone: '$timeZone', startOfWeek: '$startOfWeek' } };
    const cases: [Document, string | number][] = [
      [{ date: D('2021-12-01T18:23:36Z'), unit: 'hour', binSize: 4, timeZone: 'America/New_York', startOfWeek: 'IGNORED' }, '"2021-12-01T17:00:00.000Z"'],
      [{ date: D('2000-01-30T18:00:00Z'), unit: 'week', binSize: 2, timeZone: 'America/New_York', startOfWeek: 'mon' }, '"2000-01-17T05:00:00.000Z"'],
      [{ date: new ObjectId('507c7f79bcf86cd7994f6c0e'), unit: 'minute', binSize: 10, timeZone: 'UTC' }, '"2012-10-15T21:20:00.000Z"'],
      [{ date: new Timestamp({ t: 1350336377, i: 0 }), unit: 'second', binSize: 10, timeZone: 'UTC' }, '"2012-10-15T21:26:10.000Z"'],
      [{ date: 'string', unit: 'hour', binSize: 1, timeZone: 'UTC' }, 5439012],
      [{ unit: 'H', binSize: 'string', timeZone: 1 }, 'null'],
      [{ date: 'Invalid', binSize: 'Invalid', timeZone: 'Invalid' }, 'null'],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 1, binSize: 1, timeZone: 'UTC' }, 5439013],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'century', binSize: 1, timeZone: 'UTC' }, 5439014],
      [{ date: 'Invalid', unit: 'invalid', timeZone: 'Invalid' }, 'null'],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'hour', binSize: 'Number', timeZone: 'UTC' }, 5439017],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'hour', binSize: 2.5, timeZone: 'UTC' }, 5439017],
      [{ date: D('2020-01-30T18:59:00Z'), unit: 'minute', binSize: D128('15'), timeZone: 'UTC' }, '"2020-01-30T18:45:00.000Z"'],
      [{ date: D('2020-01-30T18:59:00Z'), unit: 'day', binSize: L(1), timeZone: 'UTC' }, '"2020-01-30T00:00:00.000Z"'],
      [{ date: D('2020-01-30T18:59:00.003Z'), unit: 'millisecond', binSize: new Int32(1000), timeZone: 'UTC' }, '"2020-01-30T18:59:00.000Z"'],
      [{ date: 1, unit: 'century', binSize: '1' }, 'null'],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'hour', binSize: 1, timeZone: 'America/Invalid' }, 40485],
      [{ date: 1, unit: 'week', binSize: '', timeZone: 1 }, 'null'],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'week', binSize: 1, timeZone: 'GMT', startOfWeek: 1 }, 5439015],
      [{ date: D('2020-01-30T18:59:00Z'), binSize: 1, unit: 'year', timeZone: 'GMT', startOfWeek: 1 }, '"2020-01-01T00:00:00.000Z"'],
      [{ date: D('2020-11-01T18:23:36Z'), unit: 'week', binSize: 1, timeZone: 'GMT', startOfWeek: 'FRIDIE' }, 5439016],
    ];
    for (const [doc, expected] of cases) {
      if (typeof expected === 'number') expect(err(pipeline, doc).code).toBe(expected);
      else expect(sh(pipeline, doc)).toBe(expected);
    }
  });

  test('nullish arguments, errors and their order', () => {
    expect(trunc('day', { binSize: null })).toBe('null');
    expect(trunc('week', { startOfWeek: null })).toBe('null');
    expect(trunc('day', { startOfWeek: 5 })).toBe('"2021-03-14T00:00:00.000Z"');
    expect(err({ $dateTrunc: { date: 'x', unit: 'day', timezone: 5 } })).toEqual({
      code: 40517,
      message: "$dateTrunc parameter 'timezone' value parsing failed :: caused by :: timezone must evaluate to a string, found int",
    });
    expect(err({ $dateTrunc: { date: 'x', unit: 'day' } })).toEqual({ code: 5439012, message: "$dateTrunc requires 'date' to be a date, but got string" });
    expect(err({ $dateTrunc: { date: d, unit: 'days' } })).toEqual({
      code: 5439014,
      message: "$dateTrunc parameter 'unit' value cannot be recognized as a time unit: days",
    });
    expect(err({ $dateTrunc: { date: d, unit: 'day', binSize: 1.5 } })).toEqual({
      code: 5439017,
      message: "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value '1.5' of type double",
    });
    expect(err({ $dateTrunc: { date: d, unit: 'day', binSize: 0 } })).toEqual({ code: 5439018, message: "$dateTrunc requires 'binSize' to be greater than 0, but got value 0" });
    expect(err({ $dateTrunc: { date: d, unit: 'day', binSize: L('100000000001') } })).toEqual({ code: 5439006, message: 'dateTrunc unsupported binSize value' });
    expect(err({ $dateTrunc: { date: d, unit: 'hour', binSize: L('9223372036854775807') } })).toEqual({ code: 5439002, message: 'dateTrunc overflowed' });
    expect(err({ $dateTrunc: { date: d, unit: 'week', startOfWeek: 'x' } }).code).toBe(5439016);
    expect(err({ $dateTrunc: [] })).toEqual({ code: 5439007, message: '$dateTrunc only supports an object as its argument' });
    expect(err({ $dateTrunc: { date: d, unit: 'day', x: 1 } })).toEqual({
      code: 5439008,
      message: 'Unrecognized argument to $dateTrunc: x. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek',
    });
    expect(err({ $dateTrunc: { unit: 'day' } })).toEqual({ code: 5439009, message: "Missing 'date' parameter to $dateTrunc" });
    expect(err({ $dateTrunc: { date: d } })).toEqual({ code: 5439010, message: "Missing 'unit' parameter to $dateTrunc" });
  });
});

describe('cost', () => {
  test('a $year in an Olson zone over 10,000 documents stays cheap (per-zone formatter, cached offsets)', () => {
    const docs = Array.from({ length: 10000 }, (_, i) => ({ d: new Date(1.6e12 + i * 3_600_000 * 7.3) }));
    const c = compileExpression({ $year: { date: '$d', timezone: 'America/New_York' } });
    for (const doc of docs) c.evaluate(scopeFor(doc, NOW));
    const start = performance.now();
    for (const doc of docs) c.evaluate(scopeFor(doc, NOW));
    // About 5 ms on a developer machine; the bound leaves room for a loaded CI machine.
    expect(performance.now() - start).toBeLessThan(250);
  });
});

function L(v: number | string): Long {
  return Long.fromString(String(v));
}
function F(v: number): Double {
  return new Double(v);
}
function D128(v: string): Decimal128 {
  return Decimal128.fromString(v);
}
