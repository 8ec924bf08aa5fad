import { randomBytes } from 'node:crypto';
import { Binary, Int32, Long, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import { VirtualClock } from '../../../src/clock.js';
import { CursorManager } from '../../../src/cursors/cursorManager.js';
import { NO_AUTH_UID, lsidText, userDigest, type LogicalSessionId } from '../../../src/sessions/logicalSessionId.js';
import { SessionRegistry, type SessionRecord, type SessionRegistryOptions, type SessionResource } from '../../../src/sessions/sessionRegistry.js';
import { expectMongoError, newLsid, uuidText } from './helpers.js';

const TIMEOUT_MS = 60_000; // timeoutMinutes: 1
const SWEEP_MS = 500;

const stoppers: Array<() => void> = [];
afterEach(() => {
  for (const stop of stoppers.splice(0)) stop();
});

function setup(options: Partial<Omit<SessionRegistryOptions, 'clock'>> = {}): { clock: VirtualClock; registry: SessionRegistry } {
  const clock = new VirtualClock();
  const registry = new SessionRegistry({
    clock,
    timeoutMinutes: 1,
    refreshMillis: 10_000,
    maxSessions: 1000,
    refreshDisabled: true,
    sweepMillis: SWEEP_MS,
    ...options,
  });
  stoppers.push(() => registry.stop());
  return { clock, registry };
}

/** A SessionResources that owns one "cursor" per lsid given and records every kill call. */
/** Cursor-like resources attached to sessions, each recording its release. */
class FakeResources {
  readonly killed: LogicalSessionId[] = [];
  private readonly live = new Set<SessionResource>();

  constructor(private readonly registry: SessionRegistry) {}

  /** Attaches one resource to the (live) session `lsid`. */
  own(lsid: LogicalSessionId, kind: 'cursor' | 'operation' = 'cursor'): void {
    const record = this.registry.get(lsid);
    if (record === undefined) throw new Error('no such session');
    const resource: SessionResource = {
      kind,
      release: () => {
        this.live.delete(resource);
        this.killed.push(record.lsid);
      },
    };
    this.live.add(resource);
    this.registry.attach(record, resource);
  }

  /** How many are still alive. */
  get owned(): number {
    return this.live.size;
  }
}

function localIds(registry: SessionRegistry): string[] {
  return [...registry.localSessions()].map((r) => keyOf(r.lsid)).sort();
}

function keyOf(lsid: LogicalSessionId): string {
  return lsid.id.toString('hex') + lsid.uid.toString('hex');
}

function collectionIds(registry: SessionRegistry): string[] {
  return [...registry.collectionDocuments()]
    .map((d) => {
      const id = d._id as Document;
      return (id.id as UUID).toHexString(false) + Buffer.from((id.uid as Binary).value()).toString('hex');
    })
    .sort();
}

function* docs(n: number): Iterator<Document> {
  for (let i = 0; i < n; i++) yield { _id: i };
}

describe('SessionRegistry: vivify and the cache limit', () => {
  test('vivify creates a session, then touches it (lastUse, inCache)', () => {
    const { clock, registry } = setup();
    const lsid = newLsid();
    const t0 = clock.now();
    const created = registry.vivify(lsid, undefined);
    expect(created.lastUse).toBe(t0);
    expect(created.inCache).toBe(true);
    expect(created.lsid.id.equals(lsid.id)).toBe(true);
    expect(created.lsid.uid.equals(NO_AUTH_UID)).toBe(true);
    expect(registry.size).toBe(1);
    expect(registry.cacheSize).toBe(1);
    expect(registry.get(lsid)).toBe(created);

    clock.advance(5_000);
    const touched = registry.vivify({ id: Buffer.from(lsid.id), uid: Buffer.from(lsid.uid) }, undefined);
    expect(touched).toBe(created);
    expect(touched.lastUse).toBe(t0 + 5_000);
    expect(registry.size).toBe(1);
    expect(registry.cacheSize).toBe(1);

    // After a refresh it leaves the cache; the next use brings it back.
    registry.refresh();
    expect(created.inCache).toBe(false);
    expect(registry.cacheSize).toBe(0);
    clock.advance(1_000);
    registry.vivify(lsid, undefined);
    expect(created.inCache).toBe(true);
    expect(created.lastUse).toBe(t0 + 6_000);
    expect(localIds(registry)).toEqual([keyOf(created.lsid)]);
  });

  test('the same id under two uids is two sessions; a child lsid vivifies its parent', () => {
    const { registry } = setup();
    const id = randomBytes(16);
    const a = registry.vivify({ id, uid: NO_AUTH_UID }, undefined);
    const b = registry.vivify({ id, uid: userDigest('b@admin') }, 'b@admin');
    expect(a).not.toBe(b);
    expect(registry.size).toBe(2);
    const kid = registry.vivify({ id, uid: NO_AUTH_UID, txnNumber: Long.fromNumber(1), txnUUID: randomBytes(16) }, undefined);
    expect(kid).toBe(a);
    expect(registry.size).toBe(2);
    expect(a.lsid.txnNumber).toBeUndefined();
    expect(a.lsid.txnUUID).toBeUndefined();
  });

  test('maxSessions: adding to a full cache fails with 261 and changes nothing', () => {
    const { clock, registry } = setup({ maxSessions: 3 });
    const first = [newLsid(), newLsid(), newLsid()];
    for (const l of first) registry.vivify(l, undefined);
    const extra = newLsid();
    const err = expectMongoError(
      () => registry.vivify(extra, undefined),
      261,
      `Unable to add session ID ${lsidText(extra)} into the cache because the number of active sessions is too high`,
    );
    expect(err.codeName).toBe('TooManyLogicalSessions');
    expect(err.message).toBe(
      `Unable to add session ID ${uuidText(extra.id)} - 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= -  -  into the cache because the number of active sessions is too high`,
    );
    expect(registry.size).toBe(3);
    expect(registry.get(extra)).toBeUndefined();
    // Touching a session already in the cache is fine when full.
    registry.vivify(first[0]!, undefined);

    // The limit counts the cache only: after a refresh there is room again.
    registry.refresh();
    expect(registry.cacheSize).toBe(0);
    registry.vivify(extra, undefined);
    const more = [newLsid(), newLsid()];
    for (const l of more) registry.vivify(l, undefined);
    expect(registry.cacheSize).toBe(3);
    // A known session that is not in the cache must be re-admitted, which fails when full.
    const old = registry.get(first[1]!)!;
    const lastUse = old.lastUse;
    clock.advance(1_000);
    expectMongoError(
      () => registry.vivify(first[1]!, undefined),
      261,
      `Unable to add session ID ${lsidText(first[1]!)} into the cache because the number of active sessions is too high`,
    );
    expect(old.inCache).toBe(false);
    expect(old.lastUse).toBe(lastUse);
    expect(registry.size).toBe(6);
  });
});

describe('SessionRegistry: refresh and the collection view', () => {
  test('refresh writes cached sessions with lastUse = refresh time and empties the cache', () => {
    const { clock, registry } = setup();
    const anon = newLsid();
    const user = newLsid(userDigest('u@admin'));
    registry.vivify(anon, undefined);
    registry.vivify(user, 'u@admin');
    expect([...registry.collectionDocuments()]).toEqual([]);
    expect(registry.collectionExists).toBe(false);

    clock.advance(1_234);
    const refreshedAt = clock.now();
    registry.refresh();
    expect(registry.collectionExists).toBe(true);
    expect(registry.cacheSize).toBe(0);
    expect([...registry.localSessions()]).toEqual([]);
    expect(registry.size).toBe(2);

    const byKey = new Map<string, Document>();
    for (const d of registry.collectionDocuments()) {
      const id = d._id as Document;
      expect(Object.keys(id)).toEqual(['id', 'uid']);
      expect(id.id).toBeInstanceOf(UUID);
      expect((id.uid as Binary).sub_type).toBe(0);
      byKey.set((id.id as UUID).toHexString(false) + Buffer.from((id.uid as Binary).value()).toString('hex'), d);
    }
    expect([...byKey.keys()].sort()).toEqual([keyOf(anon), keyOf(user)].sort());
    const anonDoc = byKey.get(keyOf(anon))!;
    expect(anonDoc.lastUse).toEqual(new Date(refreshedAt));
    expect('user' in anonDoc).toBe(false);
    const userDoc = byKey.get(keyOf(user))!;
    expect(userDoc.lastUse).toEqual(new Date(refreshedAt));
    expect(userDoc.user).toEqual({ name: 'u@admin' });

    // A later use changes the collection only at the next refresh, and only for that session.
    clock.advance(2_000);
    registry.vivify(anon, undefined);
    expect(byLastUse(registry)).toEqual(new Map([[keyOf(anon), refreshedAt], [keyOf(user), refreshedAt]]));
    clock.advance(3_000);
    registry.refresh();
    expect(byLastUse(registry)).toEqual(new Map([[keyOf(anon), refreshedAt + 5_000], [keyOf(user), refreshedAt]]));
  });

  test('the collection is created at the first refresh, even an empty one', () => {
    const { registry } = setup();
    expect(registry.collectionExists).toBe(false);
    registry.refresh();
    expect(registry.collectionExists).toBe(true);
    expect(registry.stats.sessionsCollectionJobCount).toBe(1);
  });

  test('periodic refresh: not before refreshMillis, then every refreshMillis (with a reap)', () => {
    const { clock, registry } = setup({ refreshDisabled: false, refreshMillis: 10_000 });
    const lsid = newLsid();
    registry.vivify(lsid, undefined);
    clock.advance(9_999);
    expect(registry.collectionExists).toBe(false);
    expect(registry.cacheSize).toBe(1);
    clock.advance(1);
    expect(registry.collectionExists).toBe(true);
    expect(registry.cacheSize).toBe(0);
    expect(collectionIds(registry)).toEqual([keyOf(lsid)]);
    expect(registry.stats.sessionsCollectionJobCount).toBe(1);
    expect(registry.stats.transactionReaperJobCount).toBe(1);
    clock.advance(20_000);
    expect(registry.stats.sessionsCollectionJobCount).toBe(3);
    expect(registry.stats.transactionReaperJobCount).toBe(3);
  });

  test('refreshDisabled: no periodic refresh at all', () => {
    const { clock, registry } = setup({ refreshDisabled: true, refreshMillis: 10_000 });
    registry.vivify(newLsid(), undefined);
    clock.advance(50_000);
    expect(registry.collectionExists).toBe(false);
    expect(registry.cacheSize).toBe(1);
    expect(registry.stats.sessionsCollectionJobCount).toBe(0);
    expect(registry.stats.transactionReaperJobCount).toBe(0);
  });

  test('stop() cancels the sweeper and the refresh timer', () => {
    const clock = new VirtualClock();
    const registry = new SessionRegistry({ clock, timeoutMinutes: 1, refreshMillis: 10_000, maxSessions: 10, refreshDisabled: false });
    expect(clock.pendingTimers).toBe(2);
    registry.stop();
    expect(clock.pendingTimers).toBe(0);
    registry.vivify(newLsid(), undefined);
    clock.advance(10 * TIMEOUT_MS);
    expect(registry.size).toBe(1);
    expect(registry.collectionExists).toBe(false);
  });
});

function byLastUse(registry: SessionRegistry): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of registry.collectionDocuments()) {
    const id = d._id as Document;
    out.set((id.id as UUID).toHexString(false) + Buffer.from((id.uid as Binary).value()).toString('hex'), (d.lastUse as Date).getTime());
  }
  return out;
}

describe('SessionRegistry: endSessions', () => {
  test('end() takes effect at the next refresh and kills the cursors of the ended sessions', () => {
    const { clock, registry } = setup();
    const cursors = new CursorManager(clock, registry, () => 10 * 60_000);
    stoppers.push(() => cursors.stop());
    const ended = newLsid();
    const kept = newLsid();
    const persistedThenEnded = newLsid();
    registry.vivify(persistedThenEnded, undefined);
    registry.refresh();
    registry.vivify(ended, undefined);
    registry.vivify(kept, undefined);
    const open = (lsid: LogicalSessionId | undefined): Long =>
      cursors.open('db.c', docs(3), { session: lsid === undefined ? undefined : registry.get(lsid), batchSize: 1 }).id as Long;
    const endedCursors = [open(ended), open(ended), open(persistedThenEnded)];
    const keptCursors = [open(kept), open(undefined)];
    expect(cursors.size).toBe(5);

    registry.end([ended, persistedThenEnded, newLsid(), ended]);
    // Nothing happens before the refresh.
    expect(registry.get(ended)).toBeDefined();
    expect(localIds(registry)).toEqual([keyOf(ended), keyOf(kept)].sort());
    expect(collectionIds(registry)).toEqual([keyOf(persistedThenEnded)]);
    expect(cursors.size).toBe(5);

    clock.advance(100);
    registry.refresh();
    expect(registry.get(ended)).toBeUndefined();
    expect(registry.get(persistedThenEnded)).toBeUndefined();
    expect(registry.get(kept)).toBeDefined();
    expect(registry.size).toBe(1);
    expect(localIds(registry)).toEqual([]);
    expect(collectionIds(registry)).toEqual([keyOf(kept)]);
    for (const id of endedCursors) expect(cursors.get(id)).toBeUndefined();
    for (const id of keptCursors) expect(cursors.get(id)).toBeDefined();
    expect(registry.stats.lastSessionsCollectionJobEntriesEnded).toBe(2);
    expect(registry.stats.lastSessionsCollectionJobEntriesRefreshed).toBe(1);
    expect(registry.stats.lastSessionsCollectionJobCursorsClosed).toBe(3);
  });

  test('a session used after end() is still ended at the refresh; a refresh without ended sessions kills nothing', () => {
    const { clock, registry } = setup();
    const resources = new FakeResources(registry);
    const lsid = newLsid();
    const other = newLsid();
    registry.vivify(lsid, undefined);
    registry.vivify(other, undefined);
    resources.own(other);
    registry.refresh();
    expect(resources.killed).toEqual([]);
    registry.end([lsid]);
    clock.advance(10);
    registry.vivify(lsid, undefined);
    resources.own(lsid);
    resources.own(lsid, 'operation');
    registry.refresh();
    expect(registry.get(lsid)).toBeUndefined();
    expect(collectionIds(registry)).toEqual([keyOf(other)]);
    // Ending closes the session's cursor; its running operation goes on (§2.3: not interrupted).
    expect(resources.killed.map(keyOf)).toEqual([keyOf(lsid)]);
    expect(resources.owned).toBe(2);
    // Only cursors count as closed cursors.
    expect(registry.stats.lastSessionsCollectionJobCursorsClosed).toBe(1);
  });
});

describe('SessionRegistry: expiry', () => {
  test('an unused session expires at lastUse + timeout, from both views, with its resources', () => {
    const { clock, registry } = setup();
    const expiring = newLsid();
    const other = newLsid();
    const resources = new FakeResources(registry);
    registry.vivify(expiring, undefined);
    resources.own(expiring);
    resources.own(expiring);
    registry.refresh();
    clock.advance(TIMEOUT_MS / 2);
    registry.vivify(other, undefined);
    resources.own(other);
    expect(collectionIds(registry)).toEqual([keyOf(expiring)]);

    clock.advance(TIMEOUT_MS / 2 - 1);
    expect(registry.get(expiring)).toBeDefined();
    expect(resources.killed).toEqual([]);

    clock.advance(1 + 1_000);
    expect(registry.get(expiring)).toBeUndefined();
    expect(collectionIds(registry)).toEqual([]);
    expect(localIds(registry)).toEqual([keyOf(other)]);
    expect(registry.size).toBe(1);
    expect(resources.killed.map(keyOf)).toEqual([keyOf(expiring), keyOf(expiring)]);
    expect(resources.owned).toBe(1);

    // The other session goes too, half a timeout later.
    clock.advance(TIMEOUT_MS / 2);
    expect(registry.size).toBe(0);
    expect(registry.cacheSize).toBe(0);
    expect(resources.owned).toBe(0);
  });

  test('a running operation keeps its session alive past its deadline and is never interrupted by expiry', () => {
    const { clock, registry } = setup();
    const lsid = newLsid();
    const record = registry.vivify(lsid, undefined);
    const started = clock.now();
    let interrupted = false;
    const operation: SessionResource = { kind: 'operation', release: () => (interrupted = true) };
    registry.attach(record, operation);
    clock.advance(TIMEOUT_MS + SWEEP_MS);
    // mongod's refresh re-vivifies the sessions of running operations: used now, not expired.
    expect(registry.get(lsid)).toBe(record);
    expect(record.lastUse).toBe(started + TIMEOUT_MS);
    expect(interrupted).toBe(false);
    registry.detach(record, operation);
    clock.advance(TIMEOUT_MS + SWEEP_MS);
    expect(registry.get(lsid)).toBeUndefined();
    expect(interrupted).toBe(false);
    // A kill interrupts it.
    const again = registry.vivify(lsid, undefined);
    registry.attach(again, operation);
    expect(registry.kill(() => true)).toBe(0);
    expect(interrupted).toBe(true);
  });

  test('expiry is precise to one sweep', () => {
    const { clock, registry } = setup();
    clock.advance(137); // off the sweep grid
    const lsid = newLsid();
    registry.vivify(lsid, undefined);
    clock.advance(TIMEOUT_MS - 1);
    expect(registry.get(lsid)).toBeDefined();
    clock.advance(SWEEP_MS + 1);
    expect(registry.get(lsid)).toBeUndefined();
  });

  test('the local cache keeps first-use order and holds no expired session, however many come and go', () => {
    const { clock, registry } = setup({ maxSessions: 100_000 });
    const live: LogicalSessionId[] = [];
    // Waves of sessions, a third of each wave used again so it outlives the next deadline.
    for (let wave = 0; wave < 6; wave++) {
      const fresh = Array.from({ length: 3_000 }, () => newLsid());
      for (const lsid of fresh) registry.vivify(lsid, undefined);
      for (const lsid of live) registry.vivify(lsid, undefined);
      live.push(...fresh.filter((_, i) => i % 3 === 0));
      clock.advance(TIMEOUT_MS / 2);
      for (const lsid of live) registry.vivify(lsid, undefined);
      clock.advance(TIMEOUT_MS / 2 + SWEEP_MS + 1);
      expect(registry.size).toBe(live.length);
      expect(registry.cacheSize).toBe(live.length);
      expect(localIds(registry)).toEqual(live.map(keyOf).sort());
      // The order is the order of first use (as a Set's insertion order).
      expect([...registry.localSessions()].map((r) => keyOf(r.lsid))).toEqual(live.map(keyOf));
      // Expired sessions are not held on to by the cache.
      expect((registry as unknown as { cache: unknown[] }).cache.length).toBeLessThanOrEqual(2 * live.length + 1024);
    }
  });

  test('a session touched before its deadline survives it', () => {
    const { clock, registry } = setup();
    const resources = new FakeResources(registry);
    const lsid = newLsid();
    const record: SessionRecord = registry.vivify(lsid, undefined);
    resources.own(lsid);
    clock.advance(TIMEOUT_MS - 10_000);
    registry.vivify(lsid, undefined);
    clock.advance(20_000); // past the first deadline
    expect(registry.get(lsid)).toBe(record);
    expect(resources.owned).toBe(1);
    // A refresh does not count as a use.
    registry.refresh();
    clock.advance(TIMEOUT_MS - 20_000 - 1);
    expect(registry.get(lsid)).toBe(record);
    clock.advance(1 + SWEEP_MS);
    expect(registry.get(lsid)).toBeUndefined();
    expect(resources.owned).toBe(0);
  });

  test('an ended session that expires before the refresh is simply gone', () => {
    const { clock, registry } = setup();
    const lsid = newLsid();
    registry.vivify(lsid, undefined);
    registry.end([lsid]);
    clock.advance(TIMEOUT_MS + SWEEP_MS);
    expect(registry.get(lsid)).toBeUndefined();
    registry.refresh();
    expect(registry.stats.lastSessionsCollectionJobEntriesEnded).toBe(0);
    expect(registry.size).toBe(0);
  });

  function massExpirySetup(): { clock: VirtualClock; registry: SessionRegistry; resources: FakeResources; batch: number } {
    const batch = 7_000;
    const { clock, registry } = setup({ maxSessions: 1_000_000, sweepBatch: batch });
    const resources = new FakeResources(registry);
    for (let i = 0; i < 100_000; i++) {
      const lsid = newLsid();
      registry.vivify(lsid, undefined);
      if (i % 1000 === 0) resources.own(lsid);
    }
    expect(registry.size).toBe(100_000);
    clock.advance(TIMEOUT_MS - 1);
    expect(registry.size).toBe(100_000);
    // The sweep timer due exactly at the deadline fires once: one batch only.
    clock.advance(1);
    expect(registry.size).toBe(100_000 - batch);
    return { clock, registry, resources, batch };
  }

  test('100,000 sessions due at once drain over several sweep() calls, at most sweepBatch each', () => {
    const { registry, resources, batch } = massExpirySetup();
    let calls = 0;
    for (;;) {
      const before = registry.size;
      const n = registry.sweep();
      expect(n).toBeLessThanOrEqual(batch);
      expect(registry.size).toBe(before - n);
      if (n === 0) break;
      calls += 1;
      expect(calls).toBeLessThan(100);
    }
    expect(calls).toBe(Math.ceil((100_000 - batch) / batch));
    expect(registry.size).toBe(0);
    expect(registry.cacheSize).toBe(0);
    expect(resources.owned).toBe(0);
    expect(resources.killed.length).toBe(100);
  });

  test('100,000 sessions due at once drain on later event-loop turns, at most sweepBatch per turn', async () => {
    const { registry, resources, batch } = massExpirySetup();
    let turns = 0;
    while (registry.size > 0) {
      const before = registry.size;
      await new Promise<void>((resolve) => setImmediate(resolve));
      const removed = before - registry.size;
      expect(removed).toBeGreaterThan(0);
      expect(removed).toBeLessThanOrEqual(batch);
      turns += 1;
      expect(turns).toBeLessThan(100);
    }
    expect(turns).toBe(Math.ceil((100_000 - batch) / batch));
    expect(resources.owned).toBe(0);
    expect(resources.killed.length).toBe(100);
  });
});

describe('SessionRegistry: statusSection', () => {
  test('counts sessions, refreshes, ended sessions and closed cursors', () => {
    const { clock, registry } = setup({ refreshDisabled: false, refreshMillis: 10_000 });
    const resources = new FakeResources(registry);
    const int = (d: Document, field: string): number => {
      expect(d[field], field).toBeInstanceOf(Int32);
      return (d[field] as Int32).value;
    };
    const start = clock.now();
    let s = registry.statusSection();
    expect(int(s, 'activeSessionsCount')).toBe(0);
    expect(int(s, 'sessionsCollectionJobCount')).toBe(0);
    expect(s.lastSessionsCollectionJobTimestamp).toEqual(new Date(start));
    expect(int(s, 'sessionCatalogSize')).toBe(0);

    const lsids = [newLsid(), newLsid(), newLsid()];
    for (const l of lsids) registry.vivify(l, undefined);
    resources.own(lsids[0]!);
    resources.own(lsids[0]!);
    resources.own(lsids[1]!);
    expect(int(registry.statusSection(), 'activeSessionsCount')).toBe(3);
    registry.end([lsids[0]!]);

    clock.advance(10_000);
    s = registry.statusSection();
    expect(int(s, 'activeSessionsCount')).toBe(0);
    expect(int(s, 'sessionsCollectionJobCount')).toBe(1);
    expect(int(s, 'lastSessionsCollectionJobEntriesRefreshed')).toBe(2);
    expect(int(s, 'lastSessionsCollectionJobEntriesEnded')).toBe(1);
    expect(int(s, 'lastSessionsCollectionJobCursorsClosed')).toBe(2);
    expect(int(s, 'lastSessionsCollectionJobDurationMillis')).toBe(0);
    expect(s.lastSessionsCollectionJobTimestamp).toEqual(new Date(start + 10_000));
    expect(int(s, 'transactionReaperJobCount')).toBe(1);
    expect(s.lastTransactionReaperJobTimestamp).toEqual(new Date(start + 10_000));
    expect(int(s, 'lastTransactionReaperJobEntriesCleanedUp')).toBe(0);
    expect(Object.keys(s)).toEqual([
      'activeSessionsCount',
      'sessionsCollectionJobCount',
      'lastSessionsCollectionJobDurationMillis',
      'lastSessionsCollectionJobTimestamp',
      'lastSessionsCollectionJobEntriesRefreshed',
      'lastSessionsCollectionJobEntriesEnded',
      'lastSessionsCollectionJobCursorsClosed',
      'transactionReaperJobCount',
      'lastTransactionReaperJobDurationMillis',
      'lastTransactionReaperJobTimestamp',
      'lastTransactionReaperJobEntriesCleanedUp',
      'sessionCatalogSize',
    ]);

    registry.vivify(lsids[1]!, undefined);
    expect(int(registry.statusSection(), 'activeSessionsCount')).toBe(1);
    clock.advance(10_000);
    s = registry.statusSection();
    expect(int(s, 'sessionsCollectionJobCount')).toBe(2);
    expect(int(s, 'lastSessionsCollectionJobEntriesRefreshed')).toBe(1);
    expect(int(s, 'lastSessionsCollectionJobEntriesEnded')).toBe(0);
    expect(int(s, 'lastSessionsCollectionJobCursorsClosed')).toBe(0);
  });
});
