// Issue 10: the date expressions run on our own code with time zones, through the real driver.
// Expected values are mongod 7.0's (jstests/aggregation/expressions date_*.js, and timelib's
// rules for local times).
import { Int32, Long, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('exactDates');
const raw = { promoteValues: false, promoteLongs: false } as const;
const D = (s: string): Date => new Date(s);

describe('date expressions with time zones', () => {
  test('sales per local day in New York and Sydney (date_expressions_with_timezones.js)', async () => {
    const c = t.db.collection<NumberedDoc>('sales');
    await c.insertMany([
      { _id: 0, date: D('2017-06-16T00:00:00.000Z'), sales: 1 },
      { _id: 1, date: D('2017-06-16T12:02:21.013Z'), sales: 2 },
      { _id: 2, date: D('2017-06-17T00:00:00.000Z'), sales: 2 },
      { _id: 3, date: D('2017-06-17T12:02:21.013Z'), sales: 2 },
      { _id: 4, date: D('2017-06-17T15:00:33.101Z'), sales: 2 },
    ]);
    const perDay = async (timezone: string): Promise<Document[]> =>
      c
        .aggregate([
          {
            $group: {
              _id: {
                year: { $year: { date: '$date', timezone } },
                month: { $month: { date: '$date', timezone } },
                day: { $dayOfMonth: { date: '$date', timezone } },
              },
              totalSales: { $sum: '$sales' },
            },
          },
          { $sort: { '_id.year': 1, '_id.month': 1, '_id.day': 1 } },
        ])
        .toArray();
    expect(await perDay('America/New_York')).toEqual([
      { _id: { year: 2017, month: 6, day: 15 }, totalSales: 1 },
      { _id: { year: 2017, month: 6, day: 16 }, totalSales: 4 },
      { _id: { year: 2017, month: 6, day: 17 }, totalSales: 4 },
    ]);
    expect(await perDay('Australia/Sydney')).toEqual([
      { _id: { year: 2017, month: 6, day: 16 }, totalSales: 3 },
      { _id: { year: 2017, month: 6, day: 17 }, totalSales: 4 },
      { _id: { year: 2017, month: 6, day: 18 }, totalSales: 2 },
    ]);
  });

  test('every operator of the family in a zone, with mongod 7.0 result types', async () => {
    const c = t.db.collection<NumberedDoc>('family');
    await c.insertOne({ _id: 1, d: D('2021-11-07T05:30:00.250Z'), s: '2021-11-07 01:30:00', tz: 'America/New_York' });
    const [doc] = await c
      .aggregate(
        [
          {
            $project: {
              _id: 0,
              hour: { $hour: { date: '$d', timezone: '$tz' } },
              isoYear: { $isoWeekYear: { date: '$d', timezone: '$tz' } },
              text: { $dateToString: { date: '$d', timezone: '$tz', format: '%Y-%m-%d %H:%M:%S.%L %z %Z' } },
              noFormat: { $dateToString: { date: '$d', timezone: '$tz' } },
              parts: { $dateToParts: { date: '$d', timezone: '$tz' } },
              ambiguous: { $dateFromParts: { year: 2021, month: 11, day: 7, hour: 1, minute: 30, timezone: '$tz' } },
              gap: { $dateFromParts: { year: 2021, month: 3, day: 14, hour: 2, minute: 30, timezone: '$tz' } },
              parsed: { $dateFromString: { dateString: '$s', timezone: '$tz' } },
              formatted: { $dateFromString: { dateString: '07/11/2021 +0530', format: '%d/%m/%Y %z' } },
              plusDay: { $dateAdd: { startDate: '$d', unit: 'day', amount: 1, timezone: '$tz' } },
              plusHours: { $dateAdd: { startDate: '$d', unit: 'hour', amount: Long.fromNumber(24), timezone: '$tz' } },
              minusMonth: { $dateSubtract: { startDate: D('2021-01-31T03:00:00Z'), unit: 'month', amount: 2, timezone: '$tz' } },
              hours: { $dateDiff: { startDate: D('2021-11-06T12:00:00Z'), endDate: '$d', unit: 'hour', timezone: '$tz' } },
              weeks: { $dateDiff: { startDate: D('2021-11-01T12:00:00Z'), endDate: '$d', unit: 'week', startOfWeek: 'sunday' } },
              day: { $dateTrunc: { date: '$d', unit: 'day', timezone: '$tz' } },
              week: { $dateTrunc: { date: '$d', unit: 'week', timezone: '$tz', startOfWeek: 'Monday' } },
            },
          },
        ],
        raw,
      )
      .toArray();
    expect(doc!.hour).toEqual(new Int32(1));
    expect(doc!.isoYear).toBeInstanceOf(Long);
    expect(doc!.isoYear.toString()).toBe('2021');
    expect(doc!.text).toBe('2021-11-07 01:30:00.250 -0400 -240');
    expect(doc!.noFormat).toBe('2021-11-07T01:30:00.250Z');
    expect(Object.entries(doc!.parts as Record<string, Int32>).map(([k, v]) => `${k}:${v.value}`)).toEqual([
      'year:2021',
      'month:11',
      'day:7',
      'hour:1',
      'minute:30',
      'second:0',
      'millisecond:250',
    ]);
    expect((doc!.ambiguous as Date).toISOString()).toBe('2021-11-07T06:30:00.000Z');
    expect((doc!.gap as Date).toISOString()).toBe('2021-03-14T07:30:00.000Z');
    expect((doc!.parsed as Date).toISOString()).toBe('2021-11-07T06:30:00.000Z');
    expect((doc!.formatted as Date).toISOString()).toBe('2021-11-06T18:30:00.000Z');
    expect((doc!.plusDay as Date).toISOString()).toBe('2021-11-08T06:30:00.250Z');
    expect((doc!.plusHours as Date).toISOString()).toBe('2021-11-08T05:30:00.250Z');
    expect((doc!.minusMonth as Date).toISOString()).toBe('2020-12-01T03:00:00.000Z');
    expect(doc!.hours).toBeInstanceOf(Long);
    expect(doc!.hours.toString()).toBe('17');
    expect(doc!.weeks.toString()).toBe('1');
    expect((doc!.day as Date).toISOString()).toBe('2021-11-07T04:00:00.000Z');
    expect((doc!.week as Date).toISOString()).toBe('2021-11-01T04:00:00.000Z');
  });

  test("errors carry mongod's codes and texts", async () => {
    const c = t.db.collection<NumberedDoc>('errors');
    await c.insertOne({ _id: 1, d: D('2021-01-01T00:00:00Z') });
    await expectExactError(
      c.aggregate([{ $project: { h: { $hour: { date: '$d', timezone: 'Mars/Olympus' } } } }]).toArray(),
      40485,
      'Location40485',
      'unrecognized time zone identifier: "Mars/Olympus"',
    );
    await expectExactError(
      c.aggregate([{ $project: { h: { $year: { date: '$d', timezone: 5 } } } }]).toArray(),
      40533,
      'Location40533',
      '$year requires a string for the timezone argument, but was given a int (5)',
    );
    await expectExactError(
      c.aggregate([{ $project: { p: { $dateFromString: { dateString: '2017-02-30' } } } }]).toArray(),
      241,
      'ConversionFailure',
      "Error parsing date string '2017-02-30'; 11: The parsed date was invalid '\0'",
    );
    await expectExactError(
      c.aggregate([{ $project: { a: { $dateAdd: { startDate: '$d', unit: 'epoch', amount: 1 } } } }]).toArray(),
      9,
      'FailedToParse',
      'unknown time unit value: epoch',
    );
    await expectExactError(
      c.aggregate([{ $project: { a: { $dateTrunc: { date: '$d', unit: 'day', timezone: 'Nowhere' } } } }]).toArray(),
      40485,
      'Location40485',
      "$dateTrunc parameter 'timezone' value parsing failed :: caused by :: unrecognized time zone identifier: \"Nowhere\"",
    );
    const [caught] = await c
      .aggregate([{ $project: { _id: 0, p: { $dateFromString: { dateString: 'nope', format: '%Y', onError: 'bad date' } } } }])
      .toArray();
    expect(caught).toEqual({ p: 'bad date' });
  });
});
