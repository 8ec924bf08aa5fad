// Issue 10, "never change a user's data": command arguments that must be documents are refused
// with mongod's IDL TypeMismatch (14) instead of being read as an empty filter.
import { ObjectId } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';

const t = useDriver('exact');

describe('document arguments', () => {
  test('findOneAndDelete(ObjectId) is TypeMismatch and deletes nothing (findAndModify.idl: query is an object)', async () => {
    const c = t.db.collection('fam');
    await c.insertMany([{ _id: new ObjectId(), a: 1 }, { _id: new ObjectId(), a: 2 }]);
    const id = new ObjectId();
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: id, remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.query' is the wrong type 'objectId', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: {}, sort: 'a', remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.sort' is the wrong type 'string', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ findAndModify: 'fam', query: {}, fields: [1], remove: true }),
      14,
      'TypeMismatch',
      "BSON field 'findAndModify.fields' is the wrong type 'array', expected type 'object'",
    );
    expect(await c.countDocuments()).toBe(2);
    // null is absent for the IDL: the whole collection is the query, as mongod does.
    const removed = await t.db.command({ findAndModify: 'fam', query: null, sort: { a: 1 }, remove: true });
    expect(removed.value.a).toBe(1);
    expect(await c.countDocuments()).toBe(1);
  });

  test('count and distinct refuse a query that is not a document', async () => {
    await t.db.collection('cd').insertMany([{ a: 1 }, { a: 2 }]);
    await expectExactError(t.db.command({ count: 'cd', query: 5 }), 14, 'TypeMismatch', "BSON field 'count.query' is the wrong type 'int', expected type 'object'");
    await expectExactError(
      t.db.command({ distinct: 'cd', key: 'a', query: 'x' }),
      14,
      'TypeMismatch',
      "BSON field 'distinct.query' is the wrong type 'string', expected type 'object'",
    );
    await expectExactError(
      t.db.command({ explain: { count: 'cd', query: [] } }),
      14,
      'TypeMismatch',
      "BSON field 'count.query' is the wrong type 'array', expected type 'object'",
    );
  });
});
