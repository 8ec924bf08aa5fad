import { BSON, Double, Int32, Long } from 'bson';
import { describe, expect, test } from 'vitest';
import { decodeOpQuery, encodeOpReply } from '../../../src/wire/opQuery.js';
import { bson, header, message, OP, opQuery } from './builders.js';
import { expectMongoError } from './expect.js';

describe('decodeOpQuery', () => {
  test('decodes the header fields, the namespace and the command', () => {
    const query = { ismaster: new Int32(1), helloOk: true, client: { driver: { name: 'nodejs', version: '7.9.0' } }, compression: ['none'] };
    const frame = opQuery({ flags: 4, ns: 'admin.$cmd', skip: 0, limit: -1, query });
    const q = decodeOpQuery(frame);
    expect(q).toEqual({
      flags: 4,
      fullCollectionName: 'admin.$cmd',
      db: 'admin',
      collection: '$cmd',
      numberToSkip: 0,
      numberToReturn: -1,
      body: query,
      commandName: 'ismaster',
    });
  });

  test('the collection is everything after the first dot', () => {
    const q = decodeOpQuery(opQuery({ ns: 'db.coll.sub', query: { find: 1 } }));
    expect(q).toMatchObject({ db: 'db', collection: 'coll.sub', commandName: 'find' });
  });

  test('a namespace without a dot is all database', () => {
    expect(decodeOpQuery(opQuery({ ns: 'admin', query: { hello: 1 } }))).toMatchObject({ db: 'admin', collection: '' });
  });

  test('a trailing returnFieldsSelector is accepted and ignored', () => {
    const q = decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { isMaster: 1 }, fields: { a: 1 } }));
    expect(q.body).toEqual({ isMaster: new Int32(1) });
  });

  test('a $query envelope is unwrapped and $readPreference kept', () => {
    const frame = opQuery({
      ns: 'admin.$cmd',
      query: { $query: { ismaster: new Int32(1), helloOk: true }, $readPreference: { mode: 'primaryPreferred' } },
    });
    const q = decodeOpQuery(frame);
    expect(q.commandName).toBe('ismaster');
    expect(q.body).toEqual({ ismaster: new Int32(1), helloOk: true, $readPreference: { mode: 'primaryPreferred' } });
  });

  test('a "query" envelope is unwrapped too, and without a read preference none is added', () => {
    const q = decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { query: { hello: new Int32(1) } } }));
    expect(q.commandName).toBe('hello');
    expect(q.body).toEqual({ hello: new Int32(1) });
  });

  test('a $query that is a string or an array is left alone', () => {
    const q = decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { $query: 'hello', x: 1 } }));
    expect(q.commandName).toBe('$query');
    expect(q.body).toEqual({ $query: 'hello', x: new Int32(1) });
    expect(decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { $query: [1] } })).commandName).toBe('$query');
  });

  // Regression: decodeOpQuery treated any JS object as the wrapped command; with promoteValues:false
  // a BSON int32 is an Int32 instance, so {$query: 5} was "unwrapped" into {value: 5} and the command
  // became "value". mongod requires $query to be a document (BSONElement::Obj() uassert).
  test('a $query holding a BSON number is not unwrapped as if it were a document', () => {
    const q = decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { $query: 5, x: 1 } }));
    expect(q.commandName).not.toBe('value');
    expect(q.body).not.toHaveProperty('value');
  });

  test('an empty $query gives an empty command name', () => {
    expect(decodeOpQuery(opQuery({ ns: 'admin.$cmd', query: { $query: {} } })).commandName).toBe('');
  });

  test.each<[string, Buffer]>([
    ['only a header', header(16, 1, 0, OP.QUERY)],
    ['flags and a short namespace only', message(OP.QUERY, Buffer.from([0, 0, 0, 0, 0x61, 0]))],
    ['a namespace without its terminating 0', message(OP.QUERY, Buffer.concat([Buffer.alloc(4), Buffer.from('admin.$cmd'.repeat(3))]))],
    ['no room for skip/limit and a document', message(OP.QUERY, Buffer.concat([Buffer.alloc(4), Buffer.from('a.$cmd\0'), Buffer.alloc(10)]))],
    ['a query size running past the end', truncatedQuery()],
    ['a query size under 5', message(OP.QUERY, Buffer.concat([Buffer.alloc(4), Buffer.from('a.$cmd\0'), Buffer.alloc(8), Buffer.from([4, 0, 0, 0, 0])]))],
    ['an invalid query document', message(OP.QUERY, Buffer.concat([Buffer.alloc(4), Buffer.from('a.$cmd\0'), Buffer.alloc(8), Buffer.from([8, 0, 0, 0, 0x7e, 0x61, 0, 0])]))],
  ])('%s => 22', (_name, frame) => {
    expectMongoError(() => decodeOpQuery(frame), 22);
  });
});

describe('encodeOpReply', () => {
  test('writes a one-document OP_REPLY with AwaitCapable', () => {
    const doc = { ismaster: true, maxWireVersion: new Int32(21), localTime: new Date(0), ok: new Double(1) };
    const frame = encodeOpReply(doc, 41, 7);
    expect(frame.readInt32LE(0)).toBe(frame.length);
    expect(frame.readInt32LE(4)).toBe(41);
    expect(frame.readInt32LE(8)).toBe(7);
    expect(frame.readInt32LE(12)).toBe(OP.REPLY);
    expect(frame.readInt32LE(16)).toBe(8); // responseFlags: AwaitCapable
    expect(frame.readBigInt64LE(20)).toBe(0n); // cursorId
    expect(frame.readInt32LE(28)).toBe(0); // startingFrom
    expect(frame.readInt32LE(32)).toBe(1); // numberReturned
    const body = frame.subarray(36);
    expect(body.readInt32LE(0)).toBe(body.length);
    expect(BSON.deserialize(body, { promoteValues: false })).toEqual(doc);
    expect(body.equals(bson(doc))).toBe(true);
  });

  test('keeps Long and nested values', () => {
    const doc = { topologyVersion: { processId: 'x', counter: Long.fromNumber(3) }, ok: new Double(1) };
    const body = encodeOpReply(doc, 1, 1).subarray(36);
    expect(BSON.deserialize(body, { promoteValues: false })).toEqual(doc);
  });
});

function truncatedQuery(): Buffer {
  const frame = opQuery({ ns: 'admin.$cmd', query: { ismaster: 1, pad: 'xxxxxxxx' } });
  const cut = Buffer.from(frame.subarray(0, frame.length - 6));
  cut.writeInt32LE(cut.length, 0);
  return cut;
}
