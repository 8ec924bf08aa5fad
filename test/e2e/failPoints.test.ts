// Issue 11, item 1: fail points, as mongod has them with enableTestCommands=1. Users prove their
// retry and timeout logic with failCommand; drivers' own retry tests depend on it.
import { MongoClient, MongoWriteConcernError, type CommandStartedEvent, type Document } from 'mongodb';
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { expectExactError, openDriver, serverError, useDriver } from '../helpers/driver.js';

const t = useDriver('fp', { setParameter: { enableTestCommands: true } });

function configure(spec: Document): Promise<Document> {
  return t.client.db('admin').command({ configureFailPoint: 'failCommand', ...spec });
}

afterEach(async () => {
  await configure({ mode: 'off' });
  await t.client.db('admin').command({ configureFailPoint: 'maxTimeAlwaysTimeOut', mode: 'off' });
});

describe('configureFailPoint', () => {
  test('answers the times the fail point was entered before; unknown names and bad modes are refused as mongod does', async () => {
    expect((await configure({ mode: 'alwaysOn', data: { failCommands: ['ping'], errorCode: 2 } })).count).toBe(0);
    await serverError(t.db.command({ ping: 1 }));
    await serverError(t.db.command({ ping: 1 }));
    expect((await configure({ mode: 'off' })).count).toBe(2);
    await expectExactError(t.client.db('admin').command({ configureFailPoint: 'noSuchPoint', mode: 'off' }), 266, 'FailPointSetFailed', 'noSuchPoint not found');
    await expectExactError(configure({}), 20, 'IllegalOperation', "When setting a failpoint, you must supply a 'mode'");
    await expectExactError(configure({ mode: 'sometimes' }), 2, 'BadValue', 'unknown mode: sometimes');
    await expectExactError(configure({ mode: { times: -1 } }), 2, 'BadValue', "'times' option to 'mode' must be positive");
    await expectExactError(configure({ mode: { times: 'x' } }), 14, 'TypeMismatch', 'Expected field "times" to have numeric type, but found string');
    await expectExactError(
      configure({ mode: { activationProbability: 2 } }),
      2,
      'BadValue',
      'activationProbability must be between 0.0 and 1.0; found 2',
    );
    await expectExactError(configure({ mode: 'alwaysOn', data: 5 }), 14, 'TypeMismatch', "the 'data' option must be a JSON object");
    // Only on admin.
    await expectExactError(t.db.command({ configureFailPoint: 'failCommand', mode: 'off' }), 13, 'Unauthorized', 'configureFailPoint may only be run against the admin database.');
  });

  test('does not exist without enableTestCommands (CommandNotFound)', async () => {
    const plain = await openDriver('fpoff');
    const err = await serverError(plain.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' }));
    expect(err.code).toBe(59);
  });
});

describe('failCommand', () => {
  test('errorCode fails the named commands {times: n}, with the given labels; then they succeed', async () => {
    await t.db.collection('c').insertOne({ _id: 1 } as Document);
    await configure({ mode: { times: 2 }, data: { failCommands: ['find', 'insert'], errorCode: 8, errorLabels: ['MyLabel'] } });
    const first = await serverError(t.db.collection('c').findOne({}));
    expect(first.code).toBe(8);
    expect(first.codeName).toBe('UnknownError');
    expect(first.message).toBe("Failing command via 'failCommand' failpoint");
    expect(first.errorLabels).toEqual(['MyLabel']);
    // The other command is untouched; the second named one consumes the last time.
    expect(await t.db.collection('c').countDocuments()).toBe(1);
    await serverError(t.db.collection('c').insertOne({ _id: 2 } as Document));
    expect(await t.db.collection('c').findOne({ _id: 1 } as Document)).toEqual({ _id: 1 });
    expect(await t.db.collection('c').countDocuments()).toBe(1);
  });

  test('{skip: n} lets the first n pass; appName limits it to one application', async () => {
    await configure({ mode: { skip: 1 }, data: { failCommands: ['ping'], errorCode: 8 } });
    await t.db.command({ ping: 1 });
    expect((await serverError(t.db.command({ ping: 1 }))).codeName).toBe('UnknownError');
    await configure({ mode: 'alwaysOn', data: { failCommands: ['ping'], errorCode: 8, appName: 'other-app' } });
    await t.db.command({ ping: 1 });
    const other = new MongoClient(`mongodb://127.0.0.1:${t.server.port}/?appName=other-app`);
    try {
      expect((await serverError(other.db('x').command({ ping: 1 }))).code).toBe(8);
    } finally {
      await other.close();
    }
  });

  test('closeConnection ends the connection without a reply; a retryable read is retried once and succeeds', async () => {
    await t.db.collection('r').insertOne({ _id: 1, v: 'x' } as Document);
    const client = new MongoClient(`mongodb://127.0.0.1:${t.server.port}/?appName=retrier`, { monitorCommands: true });
    const started: string[] = [];
    client.on('commandStarted', (e: CommandStartedEvent) => started.push(e.commandName));
    try {
      await client.db('fp').command({ ping: 1 });
      await configure({ mode: { times: 1 }, data: { failCommands: ['find'], closeConnection: true, appName: 'retrier' } });
      expect(await client.db('fp').collection('r').findOne({})).toEqual({ _id: 1, v: 'x' });
      expect(started.filter((n) => n === 'find')).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  test('writeConcernError: the write happens and the reply carries the given writeConcernError', async () => {
    await configure({ mode: { times: 1 }, data: { failCommands: ['insert'], writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' } } });
    // The driver raises the reply's writeConcernError as MongoWriteConcernError, keeping the reply.
    const err = (await t.db.command({ insert: 'w', documents: [{ _id: 1 }] }).catch((e: unknown) => e)) as MongoWriteConcernError;
    expect(err).toBeInstanceOf(MongoWriteConcernError);
    expect(err.code).toBe(100);
    expect(err.result.n).toBe(1);
    expect(err.result.writeConcernError).toEqual({ code: 100, errmsg: 'Not enough data-bearing nodes' });
    expect(await t.db.collection('w').countDocuments()).toBe(1);
    // {times: 1} is spent.
    expect((await t.db.command({ insert: 'w', documents: [{ _id: 2 }] })).writeConcernError).toBeUndefined();
  });

  test('configureFailPoint itself is never failed, even when named', async () => {
    await configure({ mode: 'alwaysOn', data: { failCommands: ['configureFailPoint'], errorCode: 2 } });
    expect((await configure({ mode: 'off' })).ok).toBe(1);
  });

  test('blockTimeMS is required with blockConnection', async () => {
    await configure({ mode: { times: 1 }, data: { failCommands: ['ping'], blockConnection: true } });
    await expectExactError(t.db.command({ ping: 1 }), 72, 'InvalidOptions', "must specify 'blockTimeMS' when 'blockConnection' is true");
  });
});

describe('blockConnection on the server clock', () => {
  test('the command waits blockTimeMS of the injected clock, then fails with errorCode', async () => {
    const clock = new VirtualClock();
    const s = await openDriver('fpblock', { clock, setParameter: { enableTestCommands: true } });
    await s.client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], blockConnection: true, blockTimeMS: 5000, errorCode: 89 } });
    let settled = false;
    const timersBefore = clock.pendingTimers;
    const pending = s.db.command({ ping: 1 }).then(
      () => 'ok',
      (e: { code: number }) => e.code,
    );
    void pending.then(() => (settled = true));
    // Wait until the server holds the blocked command, without timing assumptions.
    while (clock.pendingTimers === timersBefore) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    clock.advance(5000);
    expect(await pending).toBe(89);
  });
});

describe('maxTimeAlwaysTimeOut', () => {
  test('every command with a maxTimeMS fails with MaxTimeMSExpired; others run', async () => {
    await t.client.db('admin').command({ configureFailPoint: 'maxTimeAlwaysTimeOut', mode: 'alwaysOn' });
    await expectExactError(t.db.command({ find: 'c', maxTimeMS: 1000 }), 50, 'MaxTimeMSExpired', 'operation exceeded time limit');
    expect((await t.db.command({ find: 'c' })).ok).toBe(1);
  });
});
