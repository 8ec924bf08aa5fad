/**
 * CRUD through dispatch, in process: the reply documents exactly as mongod 7.0 shapes them
 * (write_ops.idl, find_command.idl), cursors and the sessions they belong to (getmore_cmd.cpp
 * validateLSID, sessions-semantics.md §3.3), explain's winning plan, opcounters, DuplicateKey.
 */
import { Double, Int32, Long, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import { expectError, expectOk, lsidText, plain, serverPool, type InProcessServer } from '../../helpers/inProcess.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

/** A fresh server and client with test.c holding {_id: 1..3, a: 1, 2, 2}. */
async function seeded(): Promise<{ server: InProcessServer; client: Client }> {
  const server = servers.make();
  const client = server.client();
  const reply = await server.run(client, { insert: 'c', documents: [{ _id: 1, a: 1 }, { _id: 2, a: 2 }, { _id: 3, a: 2 }], $db: 'test' });
  expect(plain(reply)).toEqual({ n: 3, ok: 1 });
  return { server, client };
}

function run(server: InProcessServer, client: Client, body: Document): Promise<Document> {
  return server.run(client, { ...body, $db: 'test' });
}

/** A find of batch size 1 on test.c (in session `id` if given), left open: its cursor id. */
async function openCursor(server: InProcessServer, client: Client, id?: UUID): Promise<Long> {
  const reply = expectOk(await run(server, client, { find: 'c', batchSize: 1, ...(id === undefined ? {} : { lsid: { id } }) }));
  const cursorId = reply.cursor.id as Long;
  expect(cursorId.isZero()).toBe(false);
  return cursorId;
}

function getMore(server: InProcessServer, client: Client, cursorId: Long, id?: UUID): Promise<Document> {
  return run(server, client, { getMore: cursorId, collection: 'c', batchSize: 1, ...(id === undefined ? {} : { lsid: { id } }) });
}

async function opcounters(server: InProcessServer, client: Client): Promise<Record<string, number>> {
  const status = expectOk(await server.run(client, { serverStatus: 1, $db: 'admin' }));
  return Object.fromEntries(Object.entries(status.opcounters as Record<string, Long>).map(([k, v]) => [k, v.toNumber()]));
}

// ---------------------------------------------------------------------------------------------

describe('round trips and reply shapes', () => {
  test('insert answers {n: Int32, ok: 1.0}; values keep their BSON types', async () => {
    const { server, client } = await seeded();
    const reply = await run(server, client, { insert: 'd', documents: [{ _id: 1, i: 1, d: new Double(1), l: Long.fromNumber(1) }] });
    expect(Object.keys(reply)).toEqual(['n', 'ok']);
    expect(reply.n).toEqual(new Int32(1));
    const [doc] = expectOk(await run(server, client, { find: 'd' })).cursor.firstBatch as Document[];
    expect(doc!.i).toBeInstanceOf(Int32);
    expect(doc!.d).toBeInstanceOf(Double);
    expect(doc!.l).toBeInstanceOf(Long);
  });

  test("find answers {cursor: {firstBatch, id: Long(0), ns}, ok: 1.0} when one batch holds it all", async () => {
    const { server, client } = await seeded();
    const reply = expectOk(await run(server, client, { find: 'c', filter: { a: 2 }, sort: { _id: -1 } }));
    expect(Object.keys(reply)).toEqual(['cursor', 'ok']);
    expect(Object.keys(reply.cursor)).toEqual(['firstBatch', 'id', 'ns']);
    expect(reply.cursor.id).toBeInstanceOf(Long);
    expect(reply.cursor.id.isZero()).toBe(true);
    expect(plain(reply)).toEqual({ cursor: { firstBatch: [{ _id: 3, a: 2 }, { _id: 2, a: 2 }], id: 0, ns: 'test.c' }, ok: 1 });
    // A collection that does not exist is an empty result, not an error.
    expect(plain(await run(server, client, { find: 'nothing' }))).toEqual({ cursor: { firstBatch: [], id: 0, ns: 'test.nothing' }, ok: 1 });
  });

  test('update answers n, nModified (and upserted), all Int32', async () => {
    const { server, client } = await seeded();
    const changed = await run(server, client, { update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { a: 5 } } }] });
    expect(Object.keys(changed)).toEqual(['n', 'nModified', 'ok']);
    expect(changed.n).toEqual(new Int32(1));
    expect(changed.nModified).toEqual(new Int32(1));
    // Matching without changing: n 1, nModified 0.
    expect(plain(await run(server, client, { update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { a: 5 } } }] }))).toEqual({ n: 1, nModified: 0, ok: 1 });
    expect(plain(await run(server, client, { update: 'c', updates: [{ q: { a: 2 }, u: { $inc: { a: 1 } }, multi: true }] }))).toEqual({ n: 2, nModified: 2, ok: 1 });
    const upsert = await run(server, client, { update: 'c', updates: [{ q: { _id: 10 }, u: { $set: { a: 10 } }, upsert: true }] });
    expect(Object.keys(upsert)).toEqual(['n', 'upserted', 'nModified', 'ok']);
    expect(plain(upsert)).toEqual({ n: 1, upserted: [{ index: 0, _id: 10 }], nModified: 0, ok: 1 });
    expect(plain(await run(server, client, { find: 'c', filter: { _id: { $in: [1, 10] } } })).cursor.firstBatch).toEqual([
      { _id: 1, a: 5 },
      { _id: 10, a: 10 },
    ]);
  });

  test('delete answers {n}: limit 1 removes one match, limit 0 all', async () => {
    const { server, client } = await seeded();
    expect(plain(await run(server, client, { delete: 'c', deletes: [{ q: { a: 2 }, limit: 1 }] }))).toEqual({ n: 1, ok: 1 });
    expect(plain(await run(server, client, { delete: 'c', deletes: [{ q: {}, limit: 0 }] }))).toEqual({ n: 2, ok: 1 });
    expect((await run(server, client, { delete: 'c', deletes: [{ q: {}, limit: 0 }] })).n).toEqual(new Int32(0));
    expect(plain(await run(server, client, { count: 'c' }))).toEqual({ n: 0, ok: 1 });
  });

  test('findAndModify: lastErrorObject and value (old document by default, new with new: true)', async () => {
    const { server, client } = await seeded();
    expect(plain(await run(server, client, { findAndModify: 'c', query: { _id: 1 }, update: { $inc: { a: 1 } } }))).toEqual({
      lastErrorObject: { n: 1, updatedExisting: true },
      value: { _id: 1, a: 1 },
      ok: 1,
    });
    expect(plain(await run(server, client, { findAndModify: 'c', query: { _id: 1 }, update: { $inc: { a: 1 } }, new: true }))).toEqual({
      lastErrorObject: { n: 1, updatedExisting: true },
      value: { _id: 1, a: 3 },
      ok: 1,
    });
    expect(plain(await run(server, client, { findAndModify: 'c', query: { _id: 7 }, update: { $set: { a: 7 } }, upsert: true, new: true }))).toEqual({
      lastErrorObject: { n: 1, updatedExisting: false, upserted: 7 },
      value: { _id: 7, a: 7 },
      ok: 1,
    });
    expect(plain(await run(server, client, { findAndModify: 'c', query: { a: 2 }, sort: { _id: -1 }, remove: true }))).toEqual({
      lastErrorObject: { n: 1 },
      value: { _id: 3, a: 2 },
      ok: 1,
    });
    expect(plain(await run(server, client, { findAndModify: 'c', query: { _id: 99 }, update: { $set: { a: 1 } } }))).toEqual({
      lastErrorObject: { n: 0, updatedExisting: false },
      value: null,
      ok: 1,
    });
    // The legacy lower-case spelling is the same command.
    expectOk(await run(server, client, { findandmodify: 'c', query: { _id: 2 }, remove: true }));
    expect(plain(await run(server, client, { count: 'c' }))).toEqual({ n: 2, ok: 1 });
  });

  test('count and distinct', async () => {
    const { server, client } = await seeded();
    const counted = await run(server, client, { count: 'c', query: { a: 2 } });
    expect(counted.n).toEqual(new Int32(2));
    expect(plain(await run(server, client, { count: 'c', skip: 1, limit: 1 }))).toEqual({ n: 1, ok: 1 });
    expect(plain(await run(server, client, { count: 'nothing' }))).toEqual({ n: 0, ok: 1 });
    expect(plain(await run(server, client, { distinct: 'c', key: 'a' }))).toEqual({ values: [1, 2], ok: 1 });
    expect(plain(await run(server, client, { distinct: 'c', key: '_id', query: { a: 2 } }))).toEqual({ values: [2, 3], ok: 1 });
  });

  test("a duplicate _id: DuplicateKey 11000 write error with mongod's errmsg, keyPattern and keyValue", async () => {
    const { server, client } = await seeded();
    const reply = await run(server, client, { insert: 'c', documents: [{ _id: 1 }, { _id: 4 }] });
    expect(Object.keys(reply)).toEqual(['n', 'writeErrors', 'ok']);
    expect(Number(reply.ok)).toBe(1);
    expect(Object.keys(reply.writeErrors[0])).toEqual(['index', 'code', 'keyPattern', 'keyValue', 'errmsg']);
    expect(plain(reply)).toEqual({
      n: 0,
      writeErrors: [
        {
          index: 0,
          code: 11000,
          keyPattern: { _id: 1 },
          keyValue: { _id: 1 },
          errmsg: 'E11000 duplicate key error collection: test.c index: _id_ dup key: { _id: 1 }',
        },
      ],
      ok: 1,
    });
    // Ordered (the default) stopped at the error; unordered goes on past it.
    const unordered = plain(await run(server, client, { insert: 'c', documents: [{ _id: 2 }, { _id: 5 }], ordered: false }));
    expect(unordered.n).toBe(1);
    expect(unordered.writeErrors.map((e: Document) => [e.index, e.code])).toEqual([[0, 11000]]);
    expect(plain(await run(server, client, { count: 'c' }))).toEqual({ n: 4, ok: 1 });
  });
});

// ---------------------------------------------------------------------------------------------

describe('getMore and sessions (validateLSID, §3.3)', () => {
  test('getMore in the same session continues the cursor, then closes it (id 0)', async () => {
    const { server, client } = await seeded();
    const id = new UUID();
    const cursorId = await openCursor(server, client, id);
    const second = await getMore(server, client, cursorId, id);
    expect(Object.keys(second.cursor)).toEqual(['nextBatch', 'id', 'ns']);
    expect(plain(second)).toEqual({ cursor: { nextBatch: [{ _id: 2, a: 2 }], id: cursorId, ns: 'test.c' }, ok: 1 });
    // From another connection: sessions are not tied to connections.
    const last = await run(server, server.client(), { getMore: cursorId, collection: 'c', lsid: { id } });
    expect(plain(last)).toEqual({ cursor: { nextBatch: [{ _id: 3, a: 2 }], id: 0, ns: 'test.c' }, ok: 1 });
    expectError(await getMore(server, client, cursorId, id), 43, 'CursorNotFound', `cursor id ${cursorId.toString()} not found`);
  });

  test('getMore in another session: 50738', async () => {
    const { server, client } = await seeded();
    const [mine, other] = [new UUID(), new UUID()];
    const cursorId = await openCursor(server, client, mine);
    expectError(
      await getMore(server, client, cursorId, other),
      50738,
      'Location50738',
      `Cannot run getMore on cursor ${cursorId.toString()}, which was created in session ${lsidText(mine)}, in session ${lsidText(other)}`,
    );
    expectOk(await getMore(server, client, cursorId, mine));
  });

  test('a cursor opened outside a session cannot be continued in one (50736), nor a session cursor without one (50737)', async () => {
    const { server, client } = await seeded();
    const id = new UUID();
    const outside = await openCursor(server, client);
    expectError(
      await getMore(server, client, outside, id),
      50736,
      'Location50736',
      `Cannot run getMore on cursor ${outside.toString()}, which was not created in a session, in session ${lsidText(id)}`,
    );
    const inside = await openCursor(server, client, id);
    expectError(
      await getMore(server, client, inside, undefined),
      50737,
      'Location50737',
      `Cannot run getMore on cursor ${inside.toString()}, which was created in session ${lsidText(id)}, without an lsid`,
    );
    // Both still usable the right way.
    expectOk(await getMore(server, client, outside));
    expectOk(await getMore(server, client, inside, id));
  });

  test('getMore on another namespace: 13', async () => {
    const { server, client } = await seeded();
    const cursorId = await openCursor(server, client);
    expectError(
      await run(server, client, { getMore: cursorId, collection: 'other' }),
      13,
      'Unauthorized',
      "Requested getMore on namespace 'test.other', but cursor belongs to a different namespace test.c",
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('explain', () => {
  const winningPlan = async (server: InProcessServer, client: Client, filter: Document): Promise<Document> => {
    const reply = expectOk(await run(server, client, { explain: { find: 'c', filter }, verbosity: 'queryPlanner' }));
    expect(reply.queryPlanner.namespace).toBe('test.c');
    return reply.queryPlanner.winningPlan as Document;
  };

  test('a filter on an unindexed field is a COLLSCAN; after createIndexes it is FETCH over IXSCAN', async () => {
    const { server, client } = await seeded();
    expect(plain(await winningPlan(server, client, { a: 2 }))).toEqual({ stage: 'COLLSCAN', filter: { a: { $eq: 2 } }, direction: 'forward' });
    expect(plain(await run(server, client, { createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }] }))).toEqual({
      numIndexesBefore: 1,
      numIndexesAfter: 2,
      createdCollectionAutomatically: false,
      ok: 1,
    });
    const plan = plain(await winningPlan(server, client, { a: 2 }));
    expect(plan.stage).toBe('FETCH');
    expect(plan.inputStage).toMatchObject({ stage: 'IXSCAN', keyPattern: { a: 1 }, indexName: 'a_1', direction: 'forward', indexBounds: { a: ['[2, 2]'] } });
    // Another field still has no index.
    expect((await winningPlan(server, client, { b: 1 })).stage).toBe('COLLSCAN');
  });
});

// ---------------------------------------------------------------------------------------------

describe('opcounters (serverStatus)', () => {
  test('each find counts one query, each getMore one getmore, each inserted document one insert', async () => {
    const { server, client } = await seeded();
    const before = await opcounters(server, client);
    expect(before.insert).toBe(3);
    await run(server, client, { find: 'c' });
    await run(server, client, { find: 'c', filter: { a: 2 } });
    const cursorId = await openCursor(server, client);
    await getMore(server, client, cursorId);
    await run(server, client, { insert: 'c', documents: [{ _id: 10 }, { _id: 11 }] });
    const after = await opcounters(server, client);
    expect(after.query - before.query).toBe(3);
    expect(after.getmore - before.getmore).toBe(1);
    expect(after.insert - before.insert).toBe(2);
    // The second serverStatus is the only command in between.
    expect(after.command - before.command).toBe(1);
  });

  // mongod counts one delete per statement (write_ops_exec.cpp performSingleDeleteOp calls
  // globalOpCounters.gotDelete() once per DeleteOpEntry), whatever it matched.
  test('each delete statement counts one delete, whatever it matched', async () => {
    const { server, client } = await seeded();
    const before = await opcounters(server, client);
    // One statement deleting two documents: one delete.
    expect(plain(await run(server, client, { delete: 'c', deletes: [{ q: { a: 2 }, limit: 0 }] })).n).toBe(2);
    expect((await opcounters(server, client)).delete - before.delete).toBe(1);
    // One deleting nothing: one delete too.
    expect(plain(await run(server, client, { delete: 'c', deletes: [{ q: { _id: 99 }, limit: 1 }] })).n).toBe(0);
    expect((await opcounters(server, client)).delete - before.delete).toBe(2);
  });
});
