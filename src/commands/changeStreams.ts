/**
 * Change streams in the commands (change-streams-semantics.md): an aggregate whose first stage is
 * $changeStream, on a replica set, opens a tailable awaitData cursor over the oplog
 * (pipeline/changeStream.ts) that belongs to the command's session like any cursor; getMore
 * waits on it as on a capped collection's (cursorManager moreAwaiting), woken by each oplog
 * append. Also: the privileges a stream needs, and the ResumableChangeStreamError label on the
 * errors after which a driver resumes (error_labels.cpp).
 */
import { Long, type Document } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { Resource } from '../auth/privileges.js';
import type { Requirement } from '../auth/authorize.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { ChangeStream, followingStages, parseChangeStreamSpec } from '../pipeline/changeStream.js';
import type { StreamScope } from '../pipeline/changeStreamEvents.js';
import { stageName } from '../pipeline/pipelineShape.js';
import { compiledPipeline, type PipelineContext } from '../query/aggregation/run.js';
import { viewIsNotACollection } from '../storage/viewCatalog.js';
import type { CommandContext } from './command.js';
import type { Services } from './services.js';

/** Whether an aggregate's pipeline opens a change stream. */
export function isChangeStreamPipeline(pipeline: unknown): boolean {
  return Array.isArray(pipeline) && stageName(pipeline[0]) === '$changeStream';
}

/**
 * LiteParsedDocumentSource::onlyReadConcernMajoritySupported: a change stream reads majority
 * (the default); any other level given is refused (72).
 */
function checkReadConcern(readConcern: unknown): void {
  if (!isPlainObject(readConcern) || readConcern.level === undefined || readConcern.level === 'majority') return;
  throw new MongoError(
    ErrorCodes.InvalidOptions,
    `Aggregation stage $changeStream cannot run with a readConcern other than 'majority'. Current readConcern: ${String(readConcern.level)}`,
  );
}

/**
 * aggregate {$changeStream: {...}} on a replica set: the stream's spec and following stages are
 * checked, it starts where the spec says, and its first batch (usually empty: it does not wait)
 * comes back with a cursor id and a postBatchResumeToken.
 */
export function changeStreamAggregate(
  ctx: CommandContext<'cursors' | 'catalog' | 'namespaces' | 'replication'>,
  collection: string | undefined,
  pipeline: readonly Document[],
  batchSize: number,
  context: PipelineContext,
): Document {
  const rs = ctx.services.replication;
  if (rs === undefined) throw new MongoError(40573, 'The $changeStream stage is only supported on replica sets');
  checkReadConcern(ctx.body.readConcern);
  if (collection !== undefined && ctx.services.namespaces.views.lookup(ctx.db, collection) !== undefined) throw viewIsNotACollection(ctx.db, collection);
  const spec = parseChangeStreamSpec((pipeline[0] as Document).$changeStream, { db: ctx.db, collection });
  const stages = compiledPipeline(followingStages(pipeline), context);
  const scope: StreamScope =
    collection !== undefined ? { kind: 'collection', db: ctx.db, coll: collection } : spec.allChangesForCluster ? { kind: 'cluster' } : { kind: 'database', db: ctx.db };
  const catalog = ctx.services.catalog;
  const stream = new ChangeStream(rs.oplog, scope, spec, {
    // updateLookup: a point read by the event's documentKey, as the collection is now.
    lookup: (db, coll, documentKey) => catalog.get(db, coll)?.findById(documentKey._id) ?? null,
    stages: (event) => stages([event]),
  });
  const ns = collection === undefined ? `${ctx.db}.$cmd.aggregate` : `${ctx.db}.${collection}`;
  const tail = { awaitData: true, onInsert: (wake: () => void) => rs.oplog.onAppend(wake) };
  return { cursor: ctx.services.cursors.open(ns, stream, { session: ctx.session, batchSize, owner: ctx.client.principal.userName, tail, endKnown: false }) };
}

/**
 * DocumentSourceChangeStream::LiteParsed::requiredPrivileges: changeStream and find on the
 * collection, on the database, or (a cluster-wide stream) on any normal resource.
 */
export function changeStreamPrivileges(ctx: CommandContext<never>): Requirement[] {
  const actions = ['changeStream', 'find'] as const;
  if (typeof ctx.body.aggregate === 'string') return [{ resource: Resource.namespace(ctx.db, ctx.body.aggregate), actions }];
  const spec = (ctx.body.pipeline as Document[])[0]!.$changeStream;
  const cluster = ctx.db === 'admin' && isPlainObject(spec) && spec.allChangesForCluster === true;
  return [{ resource: cluster ? Resource.anyNormalResource() : Resource.database(ctx.db), actions }];
}

/**
 * The codes after which a change stream may resume (error_labels.cpp isResumableChangeStreamError:
 * retriable, network and re-targeting errors, RetryChangeStream, FailedToSatisfyReadPreference).
 * CursorNotFound (43) is not labelled: drivers resume on it by its code.
 */
const RESUMABLE_CODES: ReadonlySet<number> = new Set([
  6, 7, 63, 89, 91, 133, 134, 150, 189, 202, 234, 249, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436,
]);

/**
 * ErrorLabelBuilder for a change stream's aggregate or getMore: ResumableChangeStreamError on a
 * resumable error (labels already there, a fail point's or NonResumableChangeStreamError, stay).
 */
export function withChangeStreamLabels(services: Pick<Services, 'cursors'>, command: string | undefined, body: Document, reply: Document): Document {
  if (reply.errorLabels !== undefined || typeof reply.code !== 'number' || !RESUMABLE_CODES.has(reply.code)) return reply;
  const changeStream =
    command === 'aggregate'
      ? isChangeStreamPipeline(body.pipeline)
      : command === 'getMore' && body.getMore instanceof Long && services.cursors.get(body.getMore)?.isChangeStream === true;
  return changeStream ? { ...reply, errorLabels: ['ResumableChangeStreamError'] } : reply;
}
