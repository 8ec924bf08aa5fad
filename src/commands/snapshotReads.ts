/**
 * Snapshot reads outside transactions (5.0+, replset-transactions-semantics.md §2.7): find,
 * aggregate and distinct with readConcern {level: "snapshot"} read the data as of one cluster
 * time, reported as atClusterTime; a snapshot session sends that time back with its later reads.
 * A read without atClusterTime takes a snapshot of the catalog now (copy-on-write clones, as a
 * transaction's) under the last write's time, and keeps it for minSnapshotHistoryWindowInSeconds
 * so reads at that time find it; a time older than every snapshot kept is SnapshotTooOld (239).
 */
import { Timestamp, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { logicalTimeText } from '../bson/bsonText.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Catalog } from '../storage/catalog.js';
import type { Services } from './services.js';

/** The commands that take readConcern snapshot outside a transaction. */
const SNAPSHOT_READS: ReadonlySet<string> = new Set(['find', 'aggregate', 'distinct']);

/** minSnapshotHistoryWindowInSeconds' default. */
const HISTORY_WINDOW_MS = 300_000;
/** Most snapshots kept at once (the oldest go first). */
const MAX_SNAPSHOTS = 64;

interface KeptSnapshot {
  readonly catalog: Catalog;
  readonly takenAt: number;
}

/** A snapshot read's services (reading the snapshot) and the time it reads at. */
export interface SnapshotRead {
  readonly services: Services;
  readonly atClusterTime: Timestamp;
}

export class SnapshotReads {
  /** By cluster time (its Long value as a string), oldest first. */
  private readonly kept = new Map<string, KeptSnapshot>();

  /**
   * The services a snapshot read runs with (reading the snapshot) and its atClusterTime, or
   * undefined when the command is not a snapshot read.
   */
  resolve(live: Services, commandName: string, body: Document): SnapshotRead | undefined {
    const rs = live.replication;
    const readConcern = body.readConcern;
    if (rs === undefined || !isPlainObject(readConcern) || readConcern.level !== 'snapshot' || !SNAPSHOT_READS.has(commandName)) return undefined;
    const now = live.clock.now();
    this.forgetOlderThan(now - HISTORY_WINDOW_MS);
    const lastWrite = rs.oplog.lastApplied.ts;
    const requested = readConcern.atClusterTime instanceof Timestamp ? readConcern.atClusterTime : undefined;
    if (requested !== undefined && requested.compare(rs.clock.time) > 0) {
      throw new MongoError(
        ErrorCodes.InvalidOptions,
        `readConcern atClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${logicalTimeText(requested)}; current clusterTime: ${logicalTimeText(rs.clock.time)}`,
      );
    }
    const at = requested ?? lastWrite;
    let snapshot = this.kept.get(at.toString());
    if (snapshot === undefined) {
      // Nothing was written after `at`: the data now is the data then.
      if (at.compare(lastWrite) < 0) {
        throw new MongoError(ErrorCodes.SnapshotTooOld, `Read timestamp Timestamp(${at.t}, ${at.i}) is older than the oldest available timestamp.`);
      }
      snapshot = { catalog: live.catalog.clone(), takenAt: now };
      this.kept.set(at.toString(), snapshot);
      if (this.kept.size > MAX_SNAPSHOTS) this.kept.delete(this.kept.keys().next().value!);
    }
    return { services: { ...live, catalog: snapshot.catalog, namespaces: live.namespaces.over(snapshot.catalog) }, atClusterTime: at };
  }

  private forgetOlderThan(time: number): void {
    for (const [key, snapshot] of this.kept) {
      if (snapshot.takenAt >= time) break;
      this.kept.delete(key);
    }
  }
}

/** A snapshot read's reply names its time: in the cursor for find and aggregate, at the top for distinct. */
export function withAtClusterTime(reply: Document, atClusterTime: Timestamp): Document {
  if (isPlainObject(reply.cursor)) return { ...reply, cursor: { ...reply.cursor, atClusterTime } };
  const { ok, ...rest } = reply;
  return { ...rest, atClusterTime, ok };
}
