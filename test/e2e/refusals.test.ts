// Issue 11, item 7: what a standalone mongod 7.0 refuses, refused with its code and text; and what
// it accepts (aggregate with a writeConcern, $out with one), accepted.
import { BSON, MongoClient, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, serverError, useDriver } from '../helpers/driver.js';
import { RawClient } from '../helpers/rawClient.js';

const t = useDriver('refusals');

describe('write and read concerns on a standalone', () => {
  test("w > 1 and tag modes are BadValue; w: 'majority' and w: 1 are fine", async () => {
    await expectExactError(t.db.command({ insert: 'w', documents: [{ a: 1 }], writeConcern: { w: 2 } }), 2, 'BadValue', "cannot use 'w' > 1 when a host is not replicated");
    await expectExactError(
      t.db.command({ insert: 'w', documents: [{ a: 1 }], writeConcern: { w: 'dc1' } }),
      2,
      'BadValue',
      'cannot use non-majority \'w\' mode "dc1" when a host is not a member of a replica set',
    );
    expect(await t.db.collection('w').countDocuments()).toBe(0);
    expect((await t.db.command({ insert: 'w', documents: [{ a: 1 }], writeConcern: { w: 'majority' } })).n).toBe(1);
  });

  test('snapshot and linearizable reads, and reads after a cluster time, need a replica set', async () => {
    await expectExactError(t.db.command({ find: 'w', readConcern: { level: 'snapshot' } }), 123, 'NotAReplicaSet', 'node needs to be a replica set member to use readConcern: snapshot');
    await expectExactError(t.db.command({ find: 'w', readConcern: { level: 'linearizable' } }), 123, 'NotAReplicaSet', 'node needs to be a replica set member to use read concern');
    await expectExactError(
      t.db.command({ find: 'w', readConcern: { afterClusterTime: new BSON.Timestamp({ t: 1, i: 1 }) } }),
      20,
      'IllegalOperation',
      'Cannot specify afterClusterTime readConcern without replication enabled',
    );
    expect((await t.db.command({ find: 'w', readConcern: { level: 'majority' } })).ok).toBe(1);
  });

  test('aggregate takes a writeConcern, with or without $out; its explain does not', async () => {
    await t.db.collection('a').insertOne({ x: 1 });
    expect((await t.db.command({ aggregate: 'a', pipeline: [], cursor: {}, writeConcern: { w: 1 } })).cursor.firstBatch).toHaveLength(1);
    await t.db.command({ aggregate: 'a', pipeline: [{ $out: 'a_out' }], cursor: {}, writeConcern: { w: 1 } });
    expect(await t.db.collection('a_out').countDocuments()).toBe(1);
    await expectExactError(
      t.db.command({ explain: { aggregate: 'a', pipeline: [], cursor: {}, writeConcern: { w: 1 } } }),
      9,
      'FailedToParse',
      "Aggregation explain does not support the'writeConcern' option",
    );
    await expectExactError(t.db.command({ aggregate: 'a', pipeline: [], explain: true, writeConcern: { w: 1 } }), 9, 'FailedToParse', "Aggregation explain does not support the'writeConcern' option");
  });
});

describe('command shapes 7.0 refuses', () => {
  test("update's 8.0 `sort` and unknown statement fields fail the whole command (40415)", async () => {
    await t.db.collection('u').insertOne({ _id: 1, a: 1 } as Document);
    await expectExactError(t.db.command({ update: 'u', updates: [{ q: {}, u: { $set: { b: 1 } }, sort: { a: 1 } }] }), 40415, 'Location40415', "BSON field 'update.updates.sort' is an unknown field.");
    await expectExactError(t.db.command({ delete: 'u', deletes: [{ q: {}, limit: 1, nope: 1 }] }), 40415, 'Location40415', "BSON field 'delete.deletes.nope' is an unknown field.");
    expect(await t.db.collection('u').findOne({ _id: 1 } as Document)).toEqual({ _id: 1, a: 1 });
  });

  test('an _id holding a $-prefixed field is refused (52); a DBRef inside _id is fine', async () => {
    const res = await t.db.command({ insert: 'ids', documents: [{ _id: { $a: 1 } }, { _id: { ref: { $ref: 'c', $id: 1 } } }], ordered: false });
    expect(res.n).toBe(1);
    expect(res.writeErrors).toEqual([{ index: 0, code: 52, errmsg: "_id fields may not contain '$'-prefixed fields: $a is not valid for storage." }]);
  });

  test('collection names with NUL, $ or a leading dot are InvalidNamespace (73)', async () => {
    await expectExactError(t.db.command({ create: 'a\0b' }), 73, 'InvalidNamespace', "Invalid namespace specified 'refusals.a\0b'");
    await expectExactError(t.db.command({ insert: 'a$b', documents: [{}] }), 73, 'InvalidNamespace', "Invalid namespace specified 'refusals.a$b'");
    await expectExactError(t.db.command({ find: '.a' }), 73, 'InvalidNamespace', "Invalid namespace specified 'refusals..a'");
  });

  test('a filter with an unknown operator is refused even on a missing collection', async () => {
    await expectExactError(t.db.command({ find: 'missing', filter: { a: { $foo: 1 } } }), 2, 'BadValue', 'unknown operator: $foo');
    const del = await t.db.command({ delete: 'missing', deletes: [{ q: { a: { $foo: 1 } }, limit: 0 }] });
    expect(del.writeErrors).toEqual([{ index: 0, code: 2, errmsg: 'unknown operator: $foo' }]);
  });

  test('apiStrict refuses stages outside API Version 1', async () => {
    const strict = new MongoClient(`mongodb://127.0.0.1:${t.server.port}`, { serverApi: { version: '1', strict: true } });
    try {
      const err = await serverError(strict.db('admin').aggregate([{ $listLocalSessions: {} }]).toArray());
      expect([err.code, err.codeName, err.message]).toEqual([323, 'APIStrictError', "$listLocalSessions is not allowed with 'apiStrict: true' in API Version 1"]);
    } finally {
      await strict.close();
    }
  });

  test('client metadata over 512 bytes is refused in the first hello (185)', async () => {
    const raw = await RawClient.connect(t.server.port);
    try {
      const { doc } = await raw.command({ hello: 1, client: { application: { name: 'x'.repeat(600) } }, $db: 'admin' });
      expect(doc).toMatchObject({ ok: 0, code: 185, codeName: 'ClientMetadataDocumentTooLarge', errmsg: 'The client metadata document must be less then or equal to 512 bytes' });
    } finally {
      await raw.close();
    }
  });
});

describe('index specifications', () => {
  test('a partialFilterExpression with a negation is CannotCreateIndex (67), naming the spec', async () => {
    await expectExactError(
      t.db.command({ createIndexes: 'p', indexes: [{ key: { a: 1 }, name: 'p', partialFilterExpression: { a: { $exists: false } } }] }),
      67,
      'CannotCreateIndex',
      'Error in specification { key: { a: 1 }, name: "p", partialFilterExpression: { a: { $exists: false } }, v: 2 } :: caused by :: Expression not supported in partial index: $not\n    a exists\n',
    );
    const ne = await serverError(t.db.command({ createIndexes: 'p', indexes: [{ key: { a: 1 }, name: 'p', partialFilterExpression: { a: { $ne: 1 } } }] }));
    expect(ne.message.endsWith('Expression not supported in partial index: $not\n    a $eq 1\n')).toBe(true);
    await t.db.command({ createIndexes: 'p', indexes: [{ key: { a: 1 }, name: 'p', partialFilterExpression: { a: { $exists: true }, b: { $gt: 1 } } }] });
  });

  test('listIndexes keeps hidden and text options; a hidden index is not used or hintable', async () => {
    const c = t.db.collection('h');
    await c.insertMany([{ h: 1 }, { h: 2 }]);
    await t.db.command({ createIndexes: 'h', indexes: [{ key: { h: 1 }, name: 'h', hidden: true }, { key: { t: 1 }, name: 't', language_override: 'lang' }] });
    const indexes = (await t.db.command({ listIndexes: 'h' })).cursor.firstBatch as Document[];
    expect(indexes.find((i) => i.name === 'h')).toEqual({ v: 2, key: { h: 1 }, name: 'h', hidden: true });
    expect(indexes.find((i) => i.name === 't')).toEqual({ v: 2, key: { t: 1 }, name: 't', language_override: 'lang' });
    const plan = await c.find({ h: 1 }).explain('queryPlanner');
    expect(JSON.stringify(plan.queryPlanner.winningPlan)).toContain('COLLSCAN');
    expect((await serverError(c.find({ h: 1 }).hint('h').toArray())).code).toBe(2);
  });
});

describe('replies that would pass 16 MB', () => {
  test('distinct whose values pass 16 MB is 17217', async () => {
    const c = t.db.collection('big');
    const chunk = 'x'.repeat(1024 * 1024);
    await c.insertMany(Array.from({ length: 17 }, (_, i) => ({ s: `${i}${chunk}` })));
    await expectExactError(t.db.command({ distinct: 'big', key: 's' }), 17217, 'Location17217', 'distinct too big, 16mb cap');
    expect((await t.db.command({ distinct: 'big', key: 's', query: { s: { $regex: '^1' } } })).values.length).toBe(8);
  });
});

describe('long write errors', () => {
  test('past the first two write errors, a message over 1 MiB is sent empty (the key still in keyValue)', async () => {
    const c = t.db.collection('longkeys');
    await c.createIndex({ s: 1 }, { unique: true });
    const s = 'k'.repeat(1024 * 1024 + 10);
    const reply = await t.db.command({ insert: 'longkeys', documents: [{ s }, { s }, { s }, { s }], ordered: false });
    expect(reply.n).toBe(1);
    const errors = reply.writeErrors as Document[];
    expect(errors.map((e) => e.index)).toEqual([1, 2, 3]);
    expect(errors.map((e) => (e.errmsg as string).length > 1024 * 1024)).toEqual([true, true, false]);
    expect(errors[2]!.errmsg).toBe('');
    expect(errors[2]!.keyValue).toEqual({ s });
  });
});
