// Issue 12, first step: on a server started without --replSet, the replica-set commands mongosh's
// rs.* helpers send answer as a standalone mongod answers them (NoReplicationEnabled, 76).
import { describe, expect, test } from 'vitest';
import { expectExactError, useDriver } from '../helpers/driver.js';
import { runMongosh } from '../helpers/server.js';

const t = useDriver('repl');

describe('a standalone', () => {
  test.each([
    ['replSetGetStatus', 'not running with --replSet'],
    ['replSetGetConfig', 'not running with --replSet'],
    ['replSetInitiate', 'This node was not started with the replSet option'],
  ])('%s: NoReplicationEnabled', async (name, errmsg) => {
    await expectExactError(t.client.db('admin').command({ [name]: name === 'replSetInitiate' ? {} : 1 }), 76, 'NoReplicationEnabled', errmsg);
  });

  test('they are admin-only', async () => {
    await expectExactError(t.client.db('app').command({ replSetGetStatus: 1 }), 13, 'Unauthorized', 'replSetGetStatus may only be run against the admin database.');
  });

  test('mongosh: rs.status() and rs.initiate() throw MongoServerError NoReplicationEnabled', async () => {
    const result = await runMongosh(
      t.server.uri,
      "for (const f of [() => rs.status(), () => rs.initiate()]) { try { f(); } catch (e) { print(e.name + ' ' + e.codeName + ': ' + e.message); } }",
    );
    expect(result.stdout.trim().split('\n')).toEqual([
      'MongoServerError NoReplicationEnabled: not running with --replSet',
      'MongoServerError NoReplicationEnabled: This node was not started with the replSet option',
    ]);
  });
});
