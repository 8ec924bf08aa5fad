// Issue 11, item 5: config.system.sessions takes createIndexes and dropIndexes like a collection,
// and the next refresh sets up lsidTTLIndex again, as mongod's refresh does.
import type { Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';

const t = useDriver('sess', { setParameter: { enableTestCommands: true, localLogicalSessionTimeoutMinutes: 7 } });

async function indexes(): Promise<Document[]> {
  return (await t.client.db('config').command({ listIndexes: 'system.sessions' })).cursor.firstBatch as Document[];
}

describe('config.system.sessions indexes', () => {
  test('dropIndex of lsidTTLIndex holds until the next refresh re-creates it with the session timeout', async () => {
    const admin = t.client.db('admin');
    await admin.command({ refreshLogicalSessionCacheNow: 1 });
    expect((await indexes()).map((i) => i.name)).toEqual(['_id_', 'lsidTTLIndex']);
    expect((await indexes())[1]).toEqual({ v: 2, key: { lastUse: 1 }, name: 'lsidTTLIndex', expireAfterSeconds: 420 });
    const dropped = await t.client.db('config').command({ dropIndexes: 'system.sessions', index: 'lsidTTLIndex' });
    expect(dropped.nIndexesWas).toBe(2);
    expect((await indexes()).map((i) => i.name)).toEqual(['_id_']);
    await admin.command({ refreshLogicalSessionCacheNow: 1 });
    expect((await indexes()).map((i) => i.name)).toEqual(['_id_', 'lsidTTLIndex']);
  });

  test('createIndexes adds an index there; _id_ cannot be dropped', async () => {
    const config = t.client.db('config');
    const reply = await config.command({ createIndexes: 'system.sessions', indexes: [{ key: { 'lsid.uid': 1 }, name: 'byUser' }] });
    expect(reply).toMatchObject({ numIndexesBefore: 2, numIndexesAfter: 3, createdCollectionAutomatically: false });
    expect((await indexes()).map((i) => i.name)).toContain('byUser');
    await expectExactError(config.command({ dropIndexes: 'system.sessions', index: '_id_' }), 72, 'InvalidOptions', 'cannot drop _id index');
    await config.command({ dropIndexes: 'system.sessions', index: 'byUser' });
    expect((await indexes()).map((i) => i.name)).toEqual(['_id_', 'lsidTTLIndex']);
  });
});
