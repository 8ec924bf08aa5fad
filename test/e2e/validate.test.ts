// Issue 11, item 6: validate answers mongod 7.0's result document, with the index key counts
// computed from the documents.
import type { Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';

const t = useDriver('val');

describe('validate', () => {
  test('counts records and each index keys (multikey, sparse and partial indexes too)', async () => {
    const c = t.db.collection('v');
    await c.insertMany([{ a: [1, 2, 2], s: 1 }, { a: 3 }, { b: 1 }] as Document[]);
    await c.createIndex({ a: 1 });
    await c.createIndex({ s: 1 }, { sparse: true });
    await c.createIndex({ b: 1 }, { partialFilterExpression: { b: { $exists: true } } });
    const res = await t.db.command({ validate: 'v', full: true });
    expect(Object.keys(res)).toEqual([
      'ns', 'uuid', 'nInvalidDocuments', 'nNonCompliantDocuments', 'nrecords', 'nIndexes', 'keysPerIndex', 'indexDetails', 'valid', 'repaired', 'warnings', 'errors', 'extraIndexEntries', 'missingIndexEntries', 'corruptRecords', 'ok',
    ]);
    expect(res).toMatchObject({ ns: 'val.v', nrecords: 3, nIndexes: 4, valid: true, errors: [] });
    // {a: [1, 2, 2]} holds two keys, {a: 3} one, {b: 1} a null key.
    expect(res.keysPerIndex).toEqual({ _id_: 3, a_1: 4, s_1: 1, b_1: 1 });
    expect(res.indexDetails.a_1).toEqual({ valid: true });
  });

  test('a missing collection is NamespaceNotFound', async () => {
    await expectExactError(t.db.command({ validate: 'nope' }), 26, 'NamespaceNotFound', "Collection 'val.nope' does not exist to validate.");
  });
});
