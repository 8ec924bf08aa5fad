// Issue 11, item 6: currentOp and $currentOp report the operations in progress (here one held by a
// failCommand block, so it is seen while it runs).
import { MongoClient, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/index.js';
import { expectExactError, openDriver } from '../helpers/driver.js';

describe('currentOp', () => {
  test('a running command is listed by currentOp and $currentOp, with its command, namespace and client', async () => {
    const clock = new VirtualClock();
    const s = await openDriver('cop', { clock, setParameter: { enableTestCommands: true } });
    const admin = s.client.db('admin');
    await admin.command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['find'], blockConnection: true, blockTimeMS: 1000, appName: 'slowapp' } });
    const slow = new MongoClient(`mongodb://127.0.0.1:${s.server.port}/?appName=slowapp`);
    try {
      await slow.db('cop').command({ ping: 1 });
      const timersBefore = clock.pendingTimers;
      const pending = slow.db('cop').collection('things').find({ x: 1 }).toArray();
      while (clock.pendingTimers === timersBefore) await new Promise((r) => setImmediate(r));

      const inprog = (await admin.command({ currentOp: 1, appName: 'slowapp' })).inprog as Document[];
      expect(inprog).toHaveLength(1);
      expect(inprog[0]).toMatchObject({ type: 'op', active: true, appName: 'slowapp', op: 'query', ns: 'cop.things', command: { find: 'things', filter: { x: 1 } } });
      expect(typeof inprog[0]!.opid).toBe('number');

      const viaStage = await admin.aggregate([{ $currentOp: { allUsers: true } }, { $match: { appName: 'slowapp' } }]).toArray();
      expect(viaStage.map((d) => d.ns)).toEqual(['cop.things']);
      // The caller's own command is in progress too.
      const self = await admin.aggregate([{ $currentOp: {} }, { $match: { 'command.aggregate': 1 } }]).toArray();
      expect(self).toHaveLength(1);

      clock.advance(1000);
      expect(await pending).toEqual([]);
      expect((await admin.command({ currentOp: 1, appName: 'slowapp' })).inprog).toEqual([]);
      // $all lists idle connections too (the driver's monitoring connection and its pooled one).
      const all = (await admin.command({ currentOp: 1, $all: true, appName: 'slowapp' })).inprog as Document[];
      expect(all.length).toBeGreaterThan(0);
      expect(all.every((d) => d.active === false && d.opid === undefined)).toBe(true);
    } finally {
      await slow.close();
    }
  });

  test('$currentOp only on admin with {aggregate: 1}; currentOp only on admin', async () => {
    const s = await openDriver('cop2');
    await expectExactError(s.db.aggregate([{ $currentOp: {} }]).toArray(), 73, 'InvalidNamespace', "$currentOp must be run against the 'admin' database with {aggregate: 1}");
    await expectExactError(s.db.command({ currentOp: 1 }), 13, 'Unauthorized', 'currentOp may only be run against the admin database.');
  });
});
