/**
 * find's point-lookup fast path (src/commands/pointFind.ts) against the general path: the same
 * finds run on two servers holding the same data, one as sent (the fast path takes what it can)
 * and one with `sort: {}` added (a no-op that only the general path takes), must give the same
 * reply bytes, the same cursors and the same serverStatus counters.
 */
import { Binary, BSON, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import { pointFind } from '../../../src/commands/pointFind.js';
import { Invocation } from '../../../src/commands/request/invocation.js';
import { expectOk, serverPool, type InProcessServer } from '../../helpers/inProcess.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

/** Values of every kind a filter may compare, equal ones of different types side by side. */
const VALUES: unknown[] = [
  new Int32(1),
  new Double(1),
  Long.fromNumber(1),
  Decimal128.fromString('1'),
  Decimal128.fromString('1.00'),
  new Double(1.5),
  Decimal128.fromString('1.5'),
  Long.fromString('9007199254740993'),
  new Double(9007199254740992),
  Decimal128.fromString('9007199254740993'),
  new Double(NaN),
  Decimal128.fromString('NaN'),
  new Double(-0),
  new Int32(0),
  Decimal128.fromString('-0'),
  new Double(Infinity),
  Decimal128.fromString('-Infinity'),
  new Int32(2_000_000_000),
  'x',
  'X',
  '',
  '\u{1F600}',
  '\uFFFD',
  true,
  false,
  new ObjectId('64b7f0000000000000000001'),
  new Date(0),
  new Date(1),
  new Binary(Buffer.from('ab')),
  new UUID('3b241101-e2bb-4255-8caf-4136c566a962'),
  new Timestamp({ t: 1, i: 0 }),
  null,
  new MinKey(),
  new MaxKey(),
  [new Int32(1), new Int32(2)],
  [[new Int32(1)]],
  [],
  { x: new Int32(1) },
  { x: new Int32(1), y: 'z' },
];

/** Fields a filter names: `_id`, an indexed field, a multikey indexed path, an unindexed one, a missing one. */
const FIELDS = ['_id', 'a', 'n.x', 'b', 'missing'];

/** What a find may add beside its filter (each a different cursor behaviour). */
const OPTIONS: Document[] = [
  {},
  { limit: new Int32(1) },
  { limit: new Int32(2) },
  { limit: new Int32(0) },
  { singleBatch: true },
  { limit: new Int32(1), singleBatch: true },
  { batchSize: new Int32(1) },
  { batchSize: new Int32(0) },
  { limit: new Int32(1), batchSize: new Int32(1) },
  { limit: new Long(2), batchSize: new Double(1) },
];

/** Documents holding each value at a, b and n.x (n an array of documents: multikey), and a few without them. */
function documents(): Document[] {
  const docs: Document[] = VALUES.map((v, i) => ({ _id: new Int32(i), a: v, b: v, n: [{ x: v }, { x: new Int32(i) }] }));
  // _id of other types (an array is not a valid _id).
  VALUES.forEach((v, i) => {
    if (!Array.isArray(v) && !(v instanceof Object && Object.getPrototypeOf(v) === Object.prototype)) docs.push({ _id: v, a: new Int32(i), k: 'typed id' });
  });
  docs.push({ _id: 'no a' }, { _id: 'null a', a: null, b: null, n: null }, { _id: 'nested', a: { x: new Int32(1) }, n: { x: new Int32(1) } });
  return docs;
}

async function loaded(): Promise<{ server: InProcessServer; client: Client }> {
  const server = servers.make();
  const client = server.client();
  const run = (body: Document) => server.run(client, { ...body, $db: 'test' });
  // Inserted one by one: equal _ids of other types are duplicates, which an ordered batch would stop at.
  for (const doc of documents()) await run({ insert: 'c', documents: [doc] });
  expectOk(await run({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }, { key: { 'n.x': 1 }, name: 'n.x_1' }] }));
  expectOk(await run({ create: 'capped', capped: true, size: 4096 }));
  expectOk(await run({ insert: 'capped', documents: [{ _id: 1, a: 1 }, { _id: 2, a: 1 }] }));
  expectOk(await run({ create: 'view', viewOn: 'c', pipeline: [{ $match: { k: { $exists: false } } }] }));
  return { server, client };
}

/** The reply with a non-zero cursor id replaced by 1 (ids are random): open cursors compare by shape. */
function comparable(reply: Document): Uint8Array {
  const cursor = reply.cursor as Document | undefined;
  if (cursor === undefined || !(cursor.id instanceof Long) || cursor.id.isZero()) return BSON.serialize(reply);
  return BSON.serialize({ ...reply, cursor: { ...cursor, id: Long.ONE } });
}

/** serverStatus's counters that a find moves. */
async function counters(server: InProcessServer, client: Client): Promise<Document> {
  const status = expectOk(await server.run(client, { serverStatus: 1, $db: 'admin' }));
  const stats = expectOk(await server.run(client, { aggregate: 'c', pipeline: [{ $collStats: { queryExecStats: {} } }], cursor: {}, $db: 'test' }));
  return { opcounters: status.opcounters, metrics: status.metrics, queryExecStats: ((stats.cursor as Document).firstBatch as Document[])[0]!.queryExecStats };
}

/** Runs `body` on the fast server as sent and on the general one with `sort: {}`; the replies must be identical. */
async function compare(fast: { server: InProcessServer; client: Client }, general: { server: InProcessServer; client: Client }, body: Document): Promise<Document> {
  const a = await fast.server.run(fast.client, { ...body, $db: 'test' });
  const b = await general.server.run(general.client, { ...body, sort: {}, $db: 'test' });
  expect(comparable(a), JSON.stringify(BSON.deserialize(BSON.serialize(body)))).toEqual(comparable(b));
  const cursor = a.cursor as Document | undefined;
  if (cursor?.id instanceof Long && !cursor.id.isZero()) {
    // The open cursors go on alike.
    const more = (side: typeof fast, id: Long) => side.server.run(side.client, { getMore: id, collection: cursor.ns.split('.').slice(1).join('.'), $db: 'test' });
    expect(comparable(await more(fast, cursor.id))).toEqual(comparable(await more(general, (b.cursor as Document).id as Long)));
  }
  return a;
}

/**
 * Whether the fast path answers `body` (rather than leaving it to the general path). It runs the
 * lookup, so `side` is a third server whose counters nobody compares.
 */
function takesFastPath(side: { server: InProcessServer; client: Client }, body: Document): boolean {
  const request = side.server.request({ ...body, $db: 'test' });
  const ctx = new Invocation(side.server.services, side.client, request, undefined, side.client.closed, undefined);
  return pointFind(ctx) !== undefined;
}

describe('point finds answer as the general path does', () => {
  test('every field and value kind, with limit, batchSize and singleBatch: same bytes, cursors and counters', async () => {
    const [fast, general, probe] = [await loaded(), await loaded(), await loaded()];
    let fastOnes = 0;
    for (const field of FIELDS) {
      for (const value of VALUES) {
        for (const options of OPTIONS) {
          const body = { find: 'c', filter: { [field]: value }, ...options };
          if (takesFastPath(probe, body)) fastOnes += 1;
          await compare(fast, general, body);
        }
      }
    }
    // Scalars take the fast path; null, arrays, documents, MinKey and MaxKey do not.
    expect(fastOnes).toBe(FIELDS.length * OPTIONS.length * VALUES.filter((v) => v !== null && !Array.isArray(v) && !(v instanceof MinKey) && !(v instanceof MaxKey) && !(v as Document).x).length);
    expect(await counters(fast.server, fast.client)).toEqual(await counters(general.server, general.client));
  });

  test('finds it leaves to the general path still answer alike', async () => {
    const [fast, general, probe] = [await loaded(), await loaded(), await loaded()];
    const bodies: Document[] = [
      { find: 'capped', filter: { _id: 1 } },
      { find: 'capped', filter: { a: 1 }, limit: 1 },
      { find: 'view', filter: { a: 1 } },
      { find: 'view', filter: { _id: new Int32(3) }, limit: 1 },
      { find: 'nothing', filter: { _id: 1 } },
      { find: 'c' },
      { find: 'c', filter: {} },
      { find: 'c', filter: { a: 1, b: 1 } },
      { find: 'c', filter: { a: { $eq: 1 } } },
      { find: 'c', filter: { $comment: 'x' } },
      { find: 'c', filter: { a: /x/ } },
      { find: 'c', filter: { a: 1 }, projection: { _id: 0 } },
      { find: 'c', filter: { a: 1 }, skip: 1 },
      { find: 'c', filter: { a: 'x' }, collation: { locale: 'en', strength: 2 } },
      { find: 'c', filter: { a: 1 }, hint: { _id: 1 } },
      { find: 'c', filter: { a: 1 }, noCursorTimeout: true, batchSize: 1 },
      { find: 'c', filter: { a: 1 }, let: { v: 1 } },
    ];
    for (const body of bodies) {
      expect(takesFastPath(probe, body), JSON.stringify(body)).toBe(false);
      await compare(fast, general, body);
    }
    expect(await counters(fast.server, fast.client)).toEqual(await counters(general.server, general.client));
  });

  test('generic arguments find ignores keep the fast path', async () => {
    const [fast, general, probe] = [await loaded(), await loaded(), await loaded()];
    const body = { find: 'c', filter: { a: new Int32(1) }, limit: 1, comment: 'point', maxTimeMS: 1000, readConcern: { level: 'local' }, $readPreference: { mode: 'primary' } };
    expect(takesFastPath(probe, body)).toBe(true);
    await compare(fast, general, body);
  });

  test('bad arguments fail with the general path errors', async () => {
    const [fast, general] = [await loaded(), await loaded()];
    const bodies: Document[] = [
      { find: 'c', filter: { a: 1 }, limit: -1 },
      { find: 'c', filter: { a: 1 }, limit: 'one' },
      { find: 'c', filter: { a: 1 }, batchSize: -1 },
      { find: 'c', filter: { a: 1 }, batchSize: null, limit: true },
      { find: 'a$b', filter: { a: 1 } },
      { find: '', filter: { a: 1 } },
      { find: 5, filter: { a: 1 } },
      { find: 'c', filter: 5 },
    ];
    for (const body of bodies) {
      const reply = await compare(fast, general, body);
      expect(Number(reply.ok), JSON.stringify(body)).toBe(0);
    }
  });

  test('in a session: a cursor left open belongs to it, and getMore from another session is refused alike', async () => {
    const [fast, general, probe] = [await loaded(), await loaded(), await loaded()];
    const lsid = { id: new UUID('00000000-0000-4000-8000-000000000001') };
    const other = { id: new UUID('00000000-0000-4000-8000-000000000002') };
    const body = { find: 'c', filter: { 'n.x': new Int32(1) }, batchSize: 1, lsid };
    expect(takesFastPath(probe, body)).toBe(true);
    const a = expectOk(await fast.server.run(fast.client, { ...body, $db: 'test' }));
    const b = expectOk(await general.server.run(general.client, { ...body, sort: {}, $db: 'test' }));
    expect(comparable(a)).toEqual(comparable(b));
    const more = (side: typeof fast, reply: Document, session: Document) =>
      side.server.run(side.client, { getMore: (reply.cursor as Document).id, collection: 'c', lsid: session, $db: 'test' });
    // The refusal names the (random) cursor id: compared by code.
    const [refusedA, refusedB] = [await more(fast, a, other), await more(general, b, other)];
    expect(Number(refusedA.ok)).toBe(0);
    expect([refusedA.code, refusedA.codeName]).toEqual([refusedB.code, refusedB.codeName]);
    expect(comparable(await more(fast, a, lsid))).toEqual(comparable(await more(general, b, lsid)));
  });
});
