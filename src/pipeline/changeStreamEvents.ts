/**
 * Change events from oplog entries, as mongod's ChangeStreamDefaultEventTransformation builds them
 * (change_stream_event_transform.cpp; change-streams-semantics.md §2, §6.2): the classic events
 * (insert, update, replace, delete, drop, rename, dropDatabase) in mongod's field order, the
 * invalidate that follows a drop, rename or dropDatabase of what a stream watches (§2.7), and the
 * namespaces each kind of stream sees (no system.* or $ collections; a cluster stream skips admin,
 * config and local). A transaction's applyOps entry unwinds into one event per operation, all at
 * the commit's clusterTime, told apart by txnOpIndex (§2.6).
 */
import { Int32, type Document, type Long, type Timestamp, type UUID } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { MongoError } from '../errors.js';
import { encodeResumeToken, EVENT_TOKEN, tokenDocument } from './changeStreamToken.js';

/** What a stream watches: one collection, one database, or the whole deployment. */
export type StreamScope =
  | { readonly kind: 'collection'; readonly db: string; readonly coll: string }
  | { readonly kind: 'database'; readonly db: string }
  | { readonly kind: 'cluster' };

/** One event as the oplog makes it, before the stream's own stages. */
export interface RawEvent {
  /** Its resume token's `_data` (also its `_id`). */
  readonly token: string;
  readonly doc: Document;
  /** The invalidate that closes a collection or database stream. */
  readonly invalidate?: true;
}

/** The internal databases a cluster-wide stream skips (kRegexAllDBs). */
const INTERNAL_DBS = new Set(['admin', 'config', 'local']);

function splitNs(ns: string): [string, string] {
  const dot = ns.indexOf('.');
  return dot < 0 ? [ns, ''] : [ns.slice(0, dot), ns.slice(dot + 1)];
}

/** kRegexAllCollections: not system.* and not $-prefixed. */
function normalCollection(coll: string): boolean {
  return coll !== '' && !coll.startsWith('system.') && !coll.startsWith('$');
}

/** Whether the stream sees changes to db.coll. */
function watches(scope: StreamScope, db: string, coll: string): boolean {
  if (scope.kind === 'collection') return db === scope.db && coll === scope.coll;
  if (!normalCollection(coll)) return false;
  return scope.kind === 'database' ? db === scope.db : !INTERNAL_DBS.has(db);
}

/** Whether the stream sees a database-wide command (dropDatabase) on db. */
function watchesDatabase(scope: StreamScope, db: string): boolean {
  return scope.kind === 'cluster' ? !INTERNAL_DBS.has(db) : db === scope.db;
}

// updateDescription (change_stream_document_diff_parser.cpp).

interface DescriptionBuilder {
  readonly updatedFields: Document;
  readonly removedFields: string[];
  readonly truncatedArrays: Document[];
}

function dotted(path: readonly string[], last: string): string {
  return path.length === 0 ? last : `${path.join('.')}.${last}`;
}

/** An object's diff: its updates, then its inserts (both updatedFields), its deletes, then its sub-diffs. */
function readDocumentDiff(diff: Document, path: readonly string[], out: DescriptionBuilder): void {
  for (const section of ['u', 'i'] as const) {
    const fields = diff[section];
    if (isPlainObject(fields)) for (const [name, value] of Object.entries(fields)) out.updatedFields[dotted(path, name)] = value;
  }
  if (isPlainObject(diff.d)) for (const name of Object.keys(diff.d)) out.removedFields.push(dotted(path, name));
  for (const [key, sub] of Object.entries(diff)) {
    if (!key.startsWith('s') || !isPlainObject(sub)) continue;
    readSubDiff(sub, [...path, key.slice(1)], out);
  }
}

function readSubDiff(sub: Document, path: readonly string[], out: DescriptionBuilder): void {
  if (sub.a === true) readArrayDiff(sub, path, out);
  else readDocumentDiff(sub, path, out);
}

/** An array's diff: its new length when it shrank, then each changed element in order. */
function readArrayDiff(diff: Document, path: readonly string[], out: DescriptionBuilder): void {
  if (diff.l !== undefined) out.truncatedArrays.push({ field: path.join('.'), newSize: new Int32(Number(diff.l)) });
  for (const [key, value] of Object.entries(diff)) {
    if (key === 'a' || key === 'l') continue;
    const index = key.slice(1);
    if (key.startsWith('u')) out.updatedFields[dotted(path, index)] = value;
    else if (key.startsWith('s') && isPlainObject(value)) readSubDiff(value, [...path, index], out);
  }
}

/** The updateDescription of a `$v: 2` diff: updatedFields, removedFields, truncatedArrays. */
export function updateDescriptionOf(diff: Document): Document {
  const out: DescriptionBuilder = { updatedFields: {}, removedFields: [], truncatedArrays: [] };
  readDocumentDiff(diff, [], out);
  return { updatedFields: out.updatedFields, removedFields: out.removedFields, truncatedArrays: out.truncatedArrays };
}

// Events.

/** What every event of one oplog entry shares: its time, and a transaction's identity. */
interface EntryContext {
  readonly ts: Timestamp;
  readonly wall: Date;
  /** Set for an operation unwound from a transaction's applyOps. */
  readonly txn?: { readonly index: number; readonly txnNumber: Long | undefined; readonly lsid: Document | undefined };
}

/** The event's fields up to wallTime, in mongod's order (transaction fields, then _id first). */
function eventHead(context: EntryContext, token: string, operationType: string, leading?: Document): Document {
  const doc: Document = { ...leading };
  if (context.txn !== undefined) {
    if (context.txn.txnNumber !== undefined) doc.txnNumber = context.txn.txnNumber;
    if (context.txn.lsid !== undefined) doc.lsid = context.txn.lsid;
  }
  doc._id = tokenDocument(token);
  doc.operationType = operationType;
  doc.clusterTime = context.ts;
  doc.wallTime = context.wall;
  return doc;
}

function eventToken(context: EntryContext, uuid: UUID | undefined, eventIdentifier: Document, fromInvalidate = false): string {
  return encodeResumeToken({ clusterTime: context.ts, tokenType: EVENT_TOKEN, txnOpIndex: context.txn?.index ?? 0, fromInvalidate, uuid, eventIdentifier });
}

/** The invalidate following `event` (its token with fromInvalidate). */
function invalidateAfter(context: EntryContext, uuid: UUID | undefined, eventIdentifier: Document): RawEvent {
  const token = eventToken(context, uuid, eventIdentifier, true);
  return { token, doc: eventHead({ ts: context.ts, wall: context.wall }, token, 'invalidate'), invalidate: true };
}

/** An insert, update, replace or delete entry (or one operation of a transaction). */
function crudEvent(entry: Document, scope: StreamScope, context: EntryContext): RawEvent | undefined {
  const [db, coll] = splitNs(String(entry.ns));
  if (!watches(scope, db, coll)) return undefined;
  const ns = { db, coll };
  const uuid = entry.ui as UUID | undefined;
  const o = entry.o as Document;
  let operationType: string;
  let documentKey: Document;
  let fullDocument: Document | undefined;
  let updateDescription: Document | undefined;
  if (entry.op === 'i') {
    operationType = 'insert';
    fullDocument = o;
    documentKey = isPlainObject(entry.o2) ? entry.o2 : { _id: o._id };
  } else if (entry.op === 'd') {
    operationType = 'delete';
    documentKey = o;
  } else if (o._id !== undefined) {
    operationType = 'replace';
    fullDocument = o;
    documentKey = entry.o2 as Document;
  } else {
    if (Number(o.$v) !== 2) {
      throw new MongoError(6741200, `Expected _id field, or $v field missing, or $v equal to 2 (kDeltaV2), but got oplog version $v: ${String(o.$v)}`);
    }
    if (!isPlainObject(o.diff)) throw new MongoError(40532, `Entry field "o.diff" should be object, found: ${typeof o.diff}`);
    operationType = 'update';
    updateDescription = updateDescriptionOf(o.diff);
    documentKey = entry.o2 as Document;
  }
  const token = eventToken(context, uuid, { operationType, documentKey });
  const doc = eventHead(context, token, operationType);
  if (fullDocument !== undefined) doc.fullDocument = fullDocument;
  doc.ns = ns;
  doc.documentKey = documentKey;
  if (updateDescription !== undefined) doc.updateDescription = updateDescription;
  return { token, doc };
}

/** A drop, renameCollection or dropDatabase entry, and the invalidate it brings to this stream. */
function commandEvents(entry: Document, scope: StreamScope, context: EntryContext): RawEvent[] {
  const o = entry.o as Document;
  const [db] = splitNs(String(entry.ns));
  const uuid = entry.ui as UUID | undefined;
  let identifier: Document;
  let event: RawEvent;
  if (typeof o.drop === 'string') {
    if (!watches(scope, db, o.drop)) return [];
    identifier = { operationType: 'drop' };
    const token = eventToken(context, uuid, identifier);
    event = { token, doc: { ...eventHead(context, token, 'drop'), ns: { db, coll: o.drop } } };
  } else if (typeof o.renameCollection === 'string' && typeof o.to === 'string') {
    const [fromDb, fromColl] = splitNs(o.renameCollection);
    const [toDb, toColl] = splitNs(o.to);
    if (!watches(scope, fromDb, fromColl) && !watches(scope, toDb, toColl)) return [];
    const to = { db: toDb, coll: toColl };
    // operationDescription: the entry's `o` without renameCollection and stayTemp, `to` as {db, coll}.
    const operationDescription: Document = {};
    for (const [key, value] of Object.entries(o)) {
      if (key === 'renameCollection' || key === 'stayTemp') continue;
      operationDescription[key] = key === 'to' ? to : value;
    }
    identifier = { operationType: 'rename', operationDescription };
    const token = eventToken(context, uuid, identifier);
    event = { token, doc: { ...eventHead(context, token, 'rename', { to }), ns: { db: fromDb, coll: fromColl } } };
  } else if (o.dropDatabase !== undefined) {
    if (!watchesDatabase(scope, db)) return [];
    identifier = { operationType: 'dropDatabase' };
    const token = eventToken(context, undefined, identifier);
    event = { token, doc: { ...eventHead(context, token, 'dropDatabase'), ns: { db } } };
  } else {
    // create, createIndexes, collMod ...: expanded events, not shown to a classic stream.
    return [];
  }
  // A cluster stream is never invalidated; a database stream only by dropDatabase.
  const invalidates = scope.kind === 'collection' || (scope.kind === 'database' && o.dropDatabase !== undefined);
  return invalidates ? [event, invalidateAfter(context, o.dropDatabase !== undefined ? undefined : uuid, identifier)] : [event];
}

/** The events one oplog entry brings to a stream, in order (none for a no-op or an unwatched namespace). */
export function eventsOf(entry: Document, scope: StreamScope): RawEvent[] {
  const context: EntryContext = { ts: entry.ts as Timestamp, wall: entry.wall as Date };
  if (entry.op === 'i' || entry.op === 'u' || entry.op === 'd') {
    const event = crudEvent(entry, scope, context);
    return event === undefined ? [] : [event];
  }
  if (entry.op !== 'c' || !isPlainObject(entry.o)) return [];
  const applyOps = entry.o.applyOps;
  if (Array.isArray(applyOps)) return transactionEvents(entry, applyOps, scope, context);
  return commandEvents(entry, scope, context);
}

/**
 * A committed transaction's applyOps entry: each operation the stream watches becomes an event at
 * the commit's time, carrying txnNumber and lsid, its txnOpIndex its place among all the
 * transaction's operations (watched or not).
 */
function transactionEvents(entry: Document, ops: readonly unknown[], scope: StreamScope, context: EntryContext): RawEvent[] {
  const events: RawEvent[] = [];
  ops.forEach((op, index) => {
    if (!isPlainObject(op) || (op.op !== 'i' && op.op !== 'u' && op.op !== 'd')) return;
    const txn = { index, txnNumber: entry.txnNumber as Long | undefined, lsid: entry.lsid as Document | undefined };
    const event = crudEvent(op, scope, { ...context, txn });
    if (event !== undefined) events.push(event);
  });
  return events;
}
