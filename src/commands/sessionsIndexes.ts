import { Int32 } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { ID_INDEX, type IndexSpec } from '../storage/catalog.js';

/**
 * The indexes of config.system.sessions. mongod's refresh (sessions_collection_standalone.cpp
 * setupSessionsCollection) checks the collection first: a missing lsidTTLIndex is created again,
 * and one whose expireAfterSeconds is not localLogicalSessionTimeoutMinutes is corrected (collMod).
 * Between refreshes users may create and drop indexes there like on any collection.
 */
export class SessionsIndexes {
  private secondary: IndexSpec[] = [];
  private changes = 0;

  /** Bumped by every change (durable storage saves the indexes when it moves). */
  get generation(): number {
    return this.changes;
  }

  /** Puts back the indexes read from durable storage (start-up). */
  restore(secondary: readonly IndexSpec[]): void {
    this.secondary = [...secondary];
  }

  constructor(
    /** localLogicalSessionTimeoutMinutes, in seconds. */
    private readonly ttlSeconds: () => number,
  ) {}

  get indexes(): readonly IndexSpec[] {
    return [ID_INDEX, ...this.secondary];
  }

  /** The refresh's setup: lsidTTLIndex {lastUse: 1} with the session timeout. */
  ensureTtlIndex(): void {
    const expireAfterSeconds = this.ttlSeconds();
    const i = this.secondary.findIndex((s) => s.name === SESSIONS_TTL_INDEX);
    const spec: IndexSpec = { name: SESSIONS_TTL_INDEX, key: { lastUse: new Int32(1) }, unique: false, sparse: false, expireAfterSeconds };
    if (i < 0) this.secondary.push(spec);
    else if (this.secondary[i]!.expireAfterSeconds !== expireAfterSeconds) this.secondary[i] = { ...this.secondary[i]!, expireAfterSeconds };
    else return;
    this.changes += 1;
  }

  addIndex(spec: IndexSpec): void {
    // The sessions collection is the session registry's view here: nothing to enforce a unique key on.
    if (spec.unique) throw new MongoError(ErrorCodes.CommandNotSupported, 'pocketmongo does not support unique indexes on config.system.sessions');
    this.secondary.push(spec);
    this.changes += 1;
  }

  dropIndex(name: string): boolean {
    const before = this.secondary.length;
    this.secondary = this.secondary.filter((s) => s.name !== name);
    if (this.secondary.length === before) return false;
    this.changes += 1;
    return true;
  }
}

export const SESSIONS_TTL_INDEX = 'lsidTTLIndex';
