/**
 * The $changeStream stage (document_source_change_stream.cpp and the stages it expands into;
 * change-streams-semantics.md): its spec (strict IDL, §1.2) and the checks of where it may run,
 * and the stream itself: a tailable source over the oplog that starts where the spec says (a new
 * stream one tick after the last write), swallows events up to a resume token (and fails when the
 * token's event is not there), adds the looked-up document of an update, runs the stages that
 * follow $changeStream on each event, and keeps the postBatchResumeToken each reply carries.
 */
import type { Document, Timestamp } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { unknownField, wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { CursorSource } from '../cursors/cursorManager.js';
import type { Oplog } from '../storage/oplog.js';
import { stageName } from './pipelineShape.js';
import { eventsOf, type RawEvent, type StreamScope } from './changeStreamEvents.js';
import {
  compareTokens,
  EVENT_TOKEN,
  highWaterMark,
  nextTick,
  parseClientToken,
  tokenDocument,
  tokenText,
  type ClientToken,
} from './changeStreamToken.js';

export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

/** DocumentSourceChangeStreamSpec, parsed. */
export interface ChangeStreamSpec {
  readonly resumeAfter?: ClientToken;
  readonly startAfter?: ClientToken;
  readonly startAtOperationTime?: Timestamp;
  readonly fullDocument: FullDocumentMode;
  readonly fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  readonly allChangesForCluster: boolean;
  readonly allowToRunOnConfigDB: boolean;
  readonly allowToRunOnSystemNS: boolean;
}

const FULL_DOCUMENT_MODES: readonly FullDocumentMode[] = ['default', 'updateLookup', 'whenAvailable', 'required'];
const FULL_DOCUMENT_BEFORE_CHANGE_MODES: readonly FullDocumentBeforeChangeMode[] = ['off', 'whenAvailable', 'required'];
const BOOL_OPTIONS = [
  'allChangesForCluster',
  'showMigrationEvents',
  'showSystemEvents',
  'allowToRunOnConfigDB',
  'allowToRunOnSystemNS',
  'showExpandedEvents',
  'showRawUpdateDescription',
] as const;
/** Options mongod has that the stream does not implement: refused when true (pocketmongo's 115). */
const NOT_IMPLEMENTED = new Set(['showExpandedEvents', 'showSystemEvents', 'showRawUpdateDescription']);

/** The labels mongod puts on the errors after which a stream cannot resume (error_labels.cpp). */
export const NON_RESUMABLE = { errorLabels: ['NonResumableChangeStreamError'] } as const;

function enumValue<T extends string>(field: string, value: unknown, values: readonly T[]): T {
  if (typeof value !== 'string') throw wrongType(`$changeStream.${field}`, value, 'string');
  if (!(values as readonly string[]).includes(value)) {
    throw new MongoError(ErrorCodes.BadValue, `Enumeration value '${value}' for field '$changeStream.${field}' is not a valid value.`);
  }
  return value as T;
}

function tokenOption(field: string, value: unknown): ClientToken {
  if (!isPlainObject(value)) throw wrongType(`$changeStream.${field}`, value, 'object');
  return parseClientToken(value);
}

/** Where the stream is opened: the database and the collection (undefined for `aggregate: 1`). */
export interface StreamTarget {
  readonly db: string;
  readonly collection: string | undefined;
}

/**
 * DocumentSourceChangeStream::createFromBson: the spec (40415 for an unknown option, 14 for a
 * wrong type, 2 for a bad enum value), then assertIsLegalSpecification's checks in its order.
 */
export function parseChangeStreamSpec(raw: unknown, target: StreamTarget): ChangeStreamSpec {
  if (!isPlainObject(raw)) throw new MongoError(50808, '$changeStream stage expects a document as argument');
  const spec: {
    -readonly [K in keyof ChangeStreamSpec]: ChangeStreamSpec[K];
  } = { fullDocument: 'default', fullDocumentBeforeChange: 'off', allChangesForCluster: false, allowToRunOnConfigDB: false, allowToRunOnSystemNS: false };
  const flags = new Map<string, boolean>();
  for (const [field, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (field === 'resumeAfter') spec.resumeAfter = tokenOption(field, value);
    else if (field === 'startAfter') spec.startAfter = tokenOption(field, value);
    else if (field === 'startAtOperationTime') {
      if (!isTimestamp(value)) throw wrongType('$changeStream.startAtOperationTime', value, 'timestamp');
      spec.startAtOperationTime = value;
    } else if (field === 'fullDocument') spec.fullDocument = enumValue(field, value, FULL_DOCUMENT_MODES);
    else if (field === 'fullDocumentBeforeChange') spec.fullDocumentBeforeChange = enumValue(field, value, FULL_DOCUMENT_BEFORE_CHANGE_MODES);
    else if ((BOOL_OPTIONS as readonly string[]).includes(field)) {
      if (typeof value !== 'boolean') throw wrongType(`$changeStream.${field}`, value, 'bool');
      flags.set(field, value);
    } else throw unknownField(`$changeStream.${field}`);
  }
  spec.allChangesForCluster = flags.get('allChangesForCluster') === true;
  spec.allowToRunOnConfigDB = flags.get('allowToRunOnConfigDB') === true;
  spec.allowToRunOnSystemNS = flags.get('allowToRunOnSystemNS') === true;
  checkLegal(spec, target);
  for (const [field, value] of flags) {
    if (value && NOT_IMPLEMENTED.has(field)) {
      throw new MongoError(ErrorCodes.CommandNotSupported, `$changeStream's '${field}' option is not supported by pocketmongo`);
    }
  }
  return spec;
}

function isTimestamp(value: unknown): value is Timestamp {
  return typeof value === 'object' && value !== null && (value as { _bsontype?: string })._bsontype === 'Timestamp';
}

/** DocumentSourceChangeStream::assertIsLegalSpecification (past the replica-set check, 40573). */
function checkLegal(spec: ChangeStreamSpec, target: StreamTarget): void {
  const { db, collection } = target;
  const ns = collection === undefined ? `${db}.$cmd.aggregate` : `${db}.${collection}`;
  if (spec.allChangesForCluster && !(db === 'admin' && collection === undefined)) {
    throw new MongoError(
      ErrorCodes.InvalidOptions,
      `A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name; found ${ns}`,
    );
  }
  const allowedDb = db === 'admin' ? spec.allChangesForCluster : db !== 'local' && (db !== 'config' || spec.allowToRunOnConfigDB);
  if (!allowedDb) throw new MongoError(ErrorCodes.InvalidNamespace, `$changeStream may not be opened on the internal ${db} database`);
  if (collection !== undefined && collection.startsWith('system.') && !spec.allowToRunOnSystemNS) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `$changeStream may not be opened on the internal ${ns} collection`);
  }
  if (spec.resumeAfter !== undefined && spec.startAfter !== undefined) {
    throw new MongoError(50865, "Do not specify both 'resumeAfter' and 'startAfter' in a $changeStream stage");
  }
  const token = spec.resumeAfter ?? spec.startAfter;
  if (spec.startAtOperationTime !== undefined && token !== undefined) {
    throw new MongoError(40674, 'Only one type of resume option is allowed, but multiple were found');
  }
  if (spec.resumeAfter?.fromInvalidate === true) {
    throw new MongoError(ErrorCodes.InvalidResumeToken, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification");
  }
  if (token !== undefined && collection !== undefined && !token.hasUuid && token.tokenType === EVENT_TOKEN) {
    throw new MongoError(ErrorCodes.InvalidResumeToken, 'Attempted to resume a single-collection stream, but the resume token does not include a UUID');
  }
}

/** The stages allowed after $changeStream (Pipeline::validateTopLevelPipeline's list). */
const ALLOWED_AFTER = new Set(['$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact', '$changeStreamSplitLargeEvent']);

/**
 * The stages after $changeStream: only ones that keep one document per event (20 otherwise).
 * Returns them without $changeStreamSplitLargeEvent, which has nothing to split here (an event
 * always fits a reply: the oplog holds no document over 16 MB).
 */
export function followingStages(pipeline: readonly Document[]): Document[] {
  const stages: Document[] = [];
  for (const stage of pipeline.slice(1)) {
    const name = stageName(stage)!;
    if (!ALLOWED_AFTER.has(name)) throw new MongoError(ErrorCodes.IllegalOperation, `${name} is not permitted in a $changeStream pipeline`);
    if (name !== '$changeStreamSplitLargeEvent') stages.push(stage);
  }
  return stages;
}

/** What the stream reads besides the oplog. */
export interface StreamReads {
  /** The document with this key in db.coll now (fullDocument: 'updateLookup'), or null. */
  lookup(db: string, coll: string, documentKey: Document): Document | null;
  /** The stages after $changeStream, run on one event (none, or one document). */
  stages(event: Document): Document[];
}

const DONE: IteratorResult<Document> = { done: true, value: undefined };

/** mongod's Document::toString of the fields its missing-image errors show. */
function imageErrorEvent(event: Document): string {
  const shown: Document = { operationType: event.operationType, ns: event.ns, clusterTime: event.clusterTime };
  if (event.txnNumber !== undefined) shown.txnNumber = event.txnNumber;
  return tokenText(shown);
}

/**
 * One change stream's events, read from the oplog as getMores ask (a tailable CursorSource: its
 * end only means "nothing yet", until an invalidate ends it for good).
 */
export class ChangeStream implements CursorSource {
  readonly changeStream = true;
  /** The next oplog timestamp to read. */
  private from: Timestamp;
  /** The postBatchResumeToken so far: it never goes back. */
  private resumeToken: string;
  /** Events of the last oplog entry read, not yet pulled. */
  private readonly queue: RawEvent[] = [];
  /** While resuming: the client's token; events up to it are swallowed, and an event token must be seen. */
  private resuming: { readonly token: string; readonly exact: boolean; seen: boolean } | undefined;
  /** An invalidate was pulled: the next pull ends the stream. */
  private invalidated = false;
  ended = false;

  constructor(
    private readonly oplog: Oplog,
    private readonly scope: StreamScope,
    private readonly spec: ChangeStreamSpec,
    private readonly reads: StreamReads,
  ) {
    const token = spec.resumeAfter ?? spec.startAfter;
    if (token !== undefined) {
      this.from = token.clusterTime;
      this.resumeToken = token.data;
      this.resuming = { token: token.data, exact: token.tokenType === EVENT_TOKEN, seen: false };
    } else {
      // getStartTimeForNewStream: one tick past the last write, so the write a client just saw is not returned.
      this.from = spec.startAtOperationTime ?? nextTick(oplog.lastApplied.ts);
      this.resumeToken = highWaterMark(this.from);
    }
    this.checkHistory();
  }

  next(): IteratorResult<Document> {
    for (;;) {
      if (this.ended) return DONE;
      const raw = this.queue.shift();
      if (raw === undefined) {
        if (this.invalidated) {
          this.ended = true;
          return DONE;
        }
        if (!this.read()) return DONE;
        continue;
      }
      if (this.swallows(raw)) continue;
      if (raw.invalidate === true) this.invalidated = true;
      const event = this.finish(raw);
      if (event !== undefined) return { done: false, value: event };
    }
  }

  /** postBatchResumeToken: the last event returned, or how far the oplog was read, whichever is later. */
  batchFields(batch: readonly Document[]): Document {
    const last = batch[batch.length - 1];
    if (last !== undefined) this.advance((last._id as Document)._data as string);
    const fields: Document = { postBatchResumeToken: tokenDocument(this.resumeToken) };
    if (this.ended) fields.invalidated = true;
    return fields;
  }

  private advance(token: string): void {
    // Until the client's event token is found, the PBRT stays at it: a later resume from a
    // high-water mark past it would skip the check that the event is there.
    if (this.resuming?.exact === true && !this.resuming.seen) return;
    if (compareTokens(token, this.resumeToken) > 0) this.resumeToken = token;
  }

  /** Reads the next oplog entry into the queue; false when there is none yet. */
  private read(): boolean {
    this.checkHistory();
    const entry = this.oplog.entryFrom(this.from);
    if (entry === undefined) return false;
    this.from = nextTick(entry.ts);
    // Every event of this entry sorts after a high-water mark at its time.
    this.advance(highWaterMark(entry.ts));
    this.queue.push(...eventsOf(entry, this.scope));
    return true;
  }

  /**
   * ChangeStreamHistoryLost (286) when entries at or after the stream's position have left the
   * oplog (or the position is older than anything it ever held).
   */
  private checkHistory(): void {
    const oldest = this.oplog.oldest;
    if (oldest === undefined || oldest.ts.compare(this.from) <= 0) return;
    const removed = this.oplog.truncatedThrough;
    if (removed !== undefined && removed.compare(this.from) < 0) return;
    throw new MongoError(ErrorCodes.ChangeStreamHistoryLost, 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.', NON_RESUMABLE);
  }

  /**
   * DocumentSourceChangeStreamCheckResumability / EnsureResumeTokenPresent: events up to the
   * client's token are dropped; passing an event token without having seen it is 280.
   */
  private swallows(raw: RawEvent): boolean {
    const resuming = this.resuming;
    if (resuming === undefined) return false;
    const order = compareTokens(raw.token, resuming.token);
    if (order < 0) return true;
    if (order === 0) {
      resuming.seen = true;
      return true;
    }
    if (resuming.exact && !resuming.seen) {
      throw new MongoError(
        ErrorCodes.ChangeStreamFatalError,
        `cannot resume stream; the resume token was not found. ${tokenText(tokenDocument(raw.token))}`,
        NON_RESUMABLE,
      );
    }
    this.resuming = undefined;
    return false;
  }

  /** The event as the client gets it: images added, then the following stages, whose output must keep `_id`. */
  private finish(raw: RawEvent): Document | undefined {
    let event = raw.doc;
    const operationType = event.operationType as string;
    const { fullDocument, fullDocumentBeforeChange } = this.spec;
    // No collection keeps pre- or post-images here: whenAvailable finds none, required fails.
    if (fullDocumentBeforeChange !== 'off' && (operationType === 'update' || operationType === 'replace' || operationType === 'delete')) {
      if (fullDocumentBeforeChange === 'required') {
        throw new MongoError(
          ErrorCodes.NoMatchingDocument,
          `Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: ${imageErrorEvent(event)}`,
        );
      }
      event = { ...event, fullDocumentBeforeChange: null };
    }
    if (fullDocument !== 'default' && operationType === 'update') {
      if (fullDocument === 'required') {
        throw new MongoError(
          ErrorCodes.NoMatchingDocument,
          `Change stream was configured to require a post-image for all update events, but the post-image was not found for event: ${imageErrorEvent(event)}`,
        );
      }
      const ns = event.ns as { db: string; coll: string };
      const image = fullDocument === 'updateLookup' ? this.reads.lookup(ns.db, ns.coll, event.documentKey as Document) : null;
      event = { ...event, fullDocument: image };
    }
    const [out] = this.reads.stages(event);
    if (out === undefined) return undefined;
    const id = out._id;
    if (!isPlainObject(id) || Object.keys(id).length !== 1 || id._data !== raw.token) {
      throw new MongoError(
        ErrorCodes.ChangeStreamFatalError,
        'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed.',
        NON_RESUMABLE,
      );
    }
    return out;
  }
}
