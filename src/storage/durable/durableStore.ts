import { createRequire } from 'node:module';
import type { Document } from 'bson';
import type { RootDatabase } from 'lmdb';
import { ErrorCodes, MongoError } from '../../errors.js';
import { decodeDocument, encodeDocument } from '../../bson/codec.js';
import type { Catalog, CatalogChanges, Collection } from '../catalog.js';
import { describe, readDescriptor } from './descriptor.js';

// The durable side of the catalog with --dbpath (design.md, "The storage engine"): the in-memory
// catalog stays the working set; changes are queued here as they happen and go to LMDB in one
// store transaction, synced on LMDB's own thread (no blocking of the event loop). As mongod's
// journal flusher does, queued changes are committed every commitIntervalMs (100 ms), or at once
// when a `j: true` write (or fsync, or shutdown) waits for sync(): so every write queued until
// then shares that commit (group commit), and a write acknowledged without `j` is on disk within
// the interval. One commit per interval rather than per write keeps LMDB's thread from competing
// with the event loop for the CPU on every insert. LMDB's copy-on-write pages make every commit
// atomic and leave the last committed state after a crash, so no document is ever torn. Records
// are keyed as mongod keys them: a collection by its UUID, a document by its RecordId (insertion
// number), so a replacement overwrites its record in place. Documents are stored as BSON and read
// back as the wire decodes them, every value with its BSON type.

/** mongod's storage.journal.commitIntervalMs default: how long a write without `j` may wait for its commit. */
export const COMMIT_INTERVAL_MS = 100;

/*
 * Keys (lmdb's ordered-binary arrays): ['c', uuid] a collection's descriptor, ['d', uuid, recordId]
 * a document, ['m', name] a whole-state document kept by a layer above (the users, the roles),
 * ['e', space, key] one entry of many kept by a layer above (the sessions collection's records).
 */
const DESCRIPTOR = 'c';
const DOCUMENT = 'd';
const STATE = 'm';
const ENTRY = 'e';

type Change =
  | { readonly kind: 'put'; readonly key: readonly (string | number)[]; readonly value: Buffer }
  | { readonly kind: 'remove'; readonly key: readonly (string | number)[] }
  | { readonly kind: 'drop'; readonly uuid: string };

/** What start-up found in the store. */
export interface LoadSummary {
  readonly collections: number;
  readonly documents: number;
}

export class DurableStore implements CatalogChanges {
  private pending: Change[] = [];
  private readonly collectionKeys = new WeakMap<Collection, string>();
  /** The timer of the next interval commit, while changes wait for it. */
  private commitTimer: NodeJS.Timeout | undefined;
  /** While the catalog is filled from the store, its changes are not changes. */
  private loading = false;
  /** Set when a commit failed: the store no longer matches memory, so every later commit fails too. */
  private failure: Error | undefined;

  private constructor(
    private readonly db: RootDatabase<Buffer, (string | number)[]>,
    private readonly onFailure: (err: Error) => void,
    private readonly commitIntervalMs: number,
  ) {}

  /**
   * Reads the whole store file once in a child process, so that a damaged file (truncated, or
   * overwritten by something else) stops start-up with a clear error instead of crashing this
   * process: LMDB maps the file into memory, and a page past the end of a truncated file is a
   * SIGBUS, which no JavaScript can catch. Run when the file may not be as a clean shutdown left it.
   */
  static check(path: string): void {
    const require = createRequire(import.meta.url);
    const reader = [
      'const [lmdb, bson, path] = process.argv.slice(1);',
      "const db = require(lmdb).open({ path, encoding: 'binary', readOnly: true });",
      'const { BSON } = require(bson);',
      'for (const { value } of db.getRange({})) BSON.deserialize(value);',
    ].join('\n');
    // node:child_process is loaded here, not at start: a server without --dbpath never needs it.
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const result = spawnSync(process.execPath, ['-e', reader, require.resolve('lmdb'), require.resolve('bson'), path], { encoding: 'utf8' });
    if (result.status === 0) return;
    const why =
      result.signal !== null ? `reading it ended with ${result.signal}` : (result.stderr.split('\n').find((line) => /^\w*Error: /.test(line)) ?? `exit code ${result.status}`).trim();
    throw new MongoError(
      ErrorCodes.DataCorruptionDetected,
      `The data file ${path} is damaged (${why}); pocketmongo will not start on it. Restore the directory from a backup, or start on an empty one.`,
    );
  }

  /**
   * Opens (or creates) the store file; `onFailure` hears of the first commit that fails (the
   * server then stops, as mongod stops on a storage engine write error). lmdb (its native binding
   * prebuilt inside the npm package) is loaded only by a server that keeps data on disk, and from
   * node_modules, not from a bundle.
   */
  static open(path: string, onFailure: (err: Error) => void = () => undefined, commitIntervalMs = COMMIT_INTERVAL_MS): DurableStore {
    const { open } = createRequire(import.meta.url)('lmdb') as typeof import('lmdb');
    const db = open<Buffer, (string | number)[]>({ path, encoding: 'binary', compression: false });
    return new DurableStore(db, onFailure, commitIntervalMs);
  }

  /** Fills an empty catalog with the stored collections and documents (start-up). */
  load(catalog: Catalog): LoadSummary {
    this.loading = true;
    try {
      return this.fill(catalog);
    } finally {
      this.loading = false;
    }
  }

  private fill(catalog: Catalog): LoadSummary {
    const byUuid = new Map<string, { collection: Collection; indexes: ReturnType<typeof readDescriptor>['indexes'] }>();
    for (const { key, value } of this.db.getRange({ start: [DESCRIPTOR], end: [DOCUMENT] })) {
      const descriptor = readDescriptor(value);
      const collection = catalog.create(descriptor.db, descriptor.name, { uuid: descriptor.uuid, capped: descriptor.capped });
      collection.validation = descriptor.validation;
      byUuid.set(String(key[1]), { collection, indexes: descriptor.indexes });
    }
    let documents = 0;
    for (const { key, value } of this.db.getRange({ start: [DOCUMENT], end: [DOCUMENT, '\uffff'] })) {
      const owner = byUuid.get(String(key[1]));
      // Documents of a collection whose drop was committed with them cannot exist (one
      // transaction); anything else would be a store written by someone else: skip it.
      if (owner === undefined) continue;
      owner.collection.restore(decodeDocument(value), Number(key[2]));
      documents += 1;
    }
    // Indexes are built once over the loaded documents rather than entry by entry.
    for (const { collection, indexes } of byUuid.values()) {
      collection.restored();
      for (const spec of indexes) collection.addIndex(spec);
    }
    return { collections: byUuid.size, documents };
  }

  written(collection: Collection, seq: number, doc: Document): void {
    if (this.loading) return;
    this.queue({ kind: 'put', key: [DOCUMENT, this.keyOf(collection), seq], value: encodeDocument(doc) });
  }

  removed(collection: Collection, seq: number): void {
    if (this.loading) return;
    this.queue({ kind: 'remove', key: [DOCUMENT, this.keyOf(collection), seq] });
  }

  described(collection: Collection): void {
    if (this.loading) return;
    this.queue({ kind: 'put', key: [DESCRIPTOR, this.keyOf(collection)], value: describe(collection) });
  }

  /** Replaces the state document `name` (committed with the other changes of this turn). */
  saveState(name: string, doc: Document): void {
    this.queue({ kind: 'put', key: [STATE, name], value: encodeDocument(doc) });
  }

  /** Replaces entry `key` of `space`. */
  saveEntry(space: string, key: string, doc: Document): void {
    this.queue({ kind: 'put', key: [ENTRY, space, key], value: encodeDocument(doc) });
  }

  removeEntry(space: string, key: string): void {
    this.queue({ kind: 'remove', key: [ENTRY, space, key] });
  }

  /** The entries of `space` as last committed, in key order. */
  *entries(space: string): Iterable<Document> {
    for (const { value } of this.db.getRange({ start: [ENTRY, space], end: [ENTRY, space, '\uffff'] })) yield decodeDocument(value);
  }

  /** The state document `name` as last committed, decoded with every BSON type kept. */
  state(name: string): Document | undefined {
    const bytes = this.db.get([STATE, name]);
    return bytes === undefined ? undefined : decodeDocument(bytes);
  }

  dropped(collection: Collection): void {
    if (this.loading) return;
    this.queue({ kind: 'drop', uuid: this.keyOf(collection) });
  }

  /** A collection's key: its UUID in hex, made once per collection (every written document needs it). */
  private keyOf(collection: Collection): string {
    let key = this.collectionKeys.get(collection);
    if (key === undefined) {
      key = collection.uuid.toHexString(false);
      this.collectionKeys.set(collection, key);
    }
    return key;
  }

  private queue(change: Change): void {
    if (this.commitTimer === undefined) this.commitTimer = setTimeout(this.commitQueued, this.commitIntervalMs).unref();
    this.pending.push(change);
  }

  /** The interval commit; its failure is kept (and reported to the next sync) by commit(). */
  private readonly commitQueued = (): void => {
    this.commit()?.catch(() => undefined);
  };

  /**
   * Everything changed so far is committed and synced to disk: what a `j: true` write waits for
   * (and the fsync command, and shutdown).
   */
  async sync(): Promise<void> {
    await this.commit();
    if (this.failure !== undefined) throw this.failure;
    await this.db.flushed;
  }

  /**
   * Sends the changes queued since the last commit to the store as one transaction; resolves once
   * it is committed, undefined when nothing changed. lmdb commits the puts and removes queued in
   * one event-loop turn as one transaction, done wholly on its write thread; only a drop, which
   * must read the dropped collection's keys inside the transaction (documents written in the
   * same batch included), takes a transaction callback on this thread.
   */
  private commit(): Promise<void> | undefined {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.pending.length === 0) return undefined;
    const changes = this.pending;
    this.pending = [];
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const db = this.db;
    const apply = (): Promise<boolean> | undefined => {
      let last: Promise<boolean> | undefined;
      for (const change of changes) {
        if (change.kind === 'put') last = db.put(change.key as (string | number)[], change.value);
        else if (change.kind === 'remove') last = db.remove(change.key as (string | number)[]);
        else dropRecords(db, change.uuid);
      }
      return last;
    };
    const committed: Promise<unknown> = changes.some((change) => change.kind === 'drop') ? db.transaction(apply) : (apply() ?? db.committed);
    return committed.then(
      () => undefined,
      (err: unknown) => {
        if (this.failure === undefined) {
          this.failure = err instanceof Error ? err : new Error(String(err));
          this.onFailure(this.failure);
        }
        throw this.failure;
      },
    );
  }

  /** Syncs and closes the store (clean shutdown). */
  async close(): Promise<void> {
    await this.sync();
    await this.db.close();
  }
}

/** A dropped collection: its descriptor and every document, in the same transaction. */
function dropRecords(db: RootDatabase<Buffer, (string | number)[]>, uuid: string): void {
  db.remove([DESCRIPTOR, uuid]);
  for (const key of db.getKeys({ start: [DOCUMENT, uuid], end: [DOCUMENT, uuid, Infinity] })) db.remove(key);
}
