import { missingField, notAtLeast, wrongType } from '../bson/idlErrors.js';
import { Int32, Long, ObjectId, type Document } from 'bson';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES } from '../bson/limits.js';
import { negotiateCompressors } from '../wire/compression.js';
import { saslSupportedMechsFor } from '../auth/scram.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { startSasl } from './auth.js';
import { redactForLog } from '../bson/redact.js';
import type { CommandContext } from './types.js';

export const MIN_WIRE_VERSION = 0;
/** mongod 7.0. */
export const MAX_WIRE_VERSION = 21;
export const MAX_WRITE_BATCH_SIZE = 100_000;

/**
 * hello / isMaster / ismaster: mongod 7.0's standalone reply (replication_info.cpp). With
 * topologyVersion + maxAwaitTimeMS it is awaitable: held until the wait ends or the topology
 * changes; with exhaustAllowed the connection then streams it (ctx.exhaust).
 */
export async function hello(ctx: CommandContext): Promise<Document> {
  const { body, connection, server } = ctx;
  const legacy = ctx.name !== 'hello';

  if (body.client !== undefined && body.client !== null) {
    if (connection.helloCount > 0) {
      throw new MongoError(
        ErrorCodes.ClientMetadataCannotBeMutated,
        'The client metadata document may only be sent in the first hello',
      );
    }
    if (typeof body.client !== 'object' || Array.isArray(body.client)) {
      throw wrongType(`${ctx.name}.client`, body.client, 'object');
    }
    connection.clientMetadata = body.client as Document;
    server.log.info({
      c: 'NETWORK',
      id: 51800,
      ctx: `conn${connection.id}`,
      msg: 'client metadata',
      attr: { remote: connection.remote, client: `conn${connection.id}`, doc: redactForLog(body.client as Document) },
    });
  }
  connection.helloCount += 1;

  await awaitTopologyChange(ctx);

  const reply: Document = {};
  if (body.helloOk === true) reply.helloOk = true;
  reply[legacy ? 'ismaster' : 'isWritablePrimary'] = true;
  reply.topologyVersion = { processId: server.topology.processId, counter: Long.fromNumber(server.topology.counter) };
  reply.maxBsonObjectSize = new Int32(MAX_BSON_OBJECT_SIZE);
  reply.maxMessageSizeBytes = new Int32(MAX_MESSAGE_SIZE_BYTES);
  reply.maxWriteBatchSize = new Int32(MAX_WRITE_BATCH_SIZE);
  reply.localTime = new Date(server.clock.now());
  reply.logicalSessionTimeoutMinutes = new Int32(server.params.int('localLogicalSessionTimeoutMinutes'));
  reply.connectionId = new Int32(connection.id);
  reply.minWireVersion = new Int32(MIN_WIRE_VERSION);
  reply.maxWireVersion = new Int32(MAX_WIRE_VERSION);
  reply.readOnly = false;
  if (Array.isArray(body.compression)) {
    // Negotiated once per connection, in the client's order (MessageCompressorManager::serverNegotiate).
    if (connection.compressors.length === 0) connection.compressors = negotiateCompressors(body.compression);
    reply.compression = [...connection.compressors];
  }
  if (typeof body.saslSupportedMechs === 'string') {
    // "<db>.<user>": the mechanisms that user can log in with; omitted for an unknown user.
    const dot = body.saslSupportedMechs.indexOf('.');
    const credentials =
      dot < 0 ? undefined : server.auth.users.credentialsOf(body.saslSupportedMechs.slice(0, dot), body.saslSupportedMechs.slice(dot + 1));
    const mechanisms = saslSupportedMechsFor(credentials);
    if (mechanisms !== undefined) reply.saslSupportedMechs = mechanisms;
  }
  if (isPlainObject(body.speculativeAuthenticate) && typeof body.speculativeAuthenticate.db === 'string') {
    // A saslStart inside the handshake; any failure just leaves the answer out (sasl_commands.cpp),
    // and the driver then authenticates explicitly.
    try {
      reply.speculativeAuthenticate = startSasl(ctx, body.speculativeAuthenticate.db, body.speculativeAuthenticate, true);
    } catch {
      connection.sasl = undefined;
    }
  }
  return reply;
}

/** The awaitable part of hello: validates topologyVersion/maxAwaitTimeMS and waits when asked to. */
async function awaitTopologyChange(ctx: CommandContext): Promise<void> {
  const { body, server, request } = ctx;
  const tv = body.topologyVersion;
  const rawWait = body.maxAwaitTimeMS;
  const hasTv = tv !== undefined && tv !== null;
  const hasWait = rawWait !== undefined && rawWait !== null;
  let maxAwaitTimeMS = 0;
  if (hasWait) {
    const n = numberValue(rawWait);
    if (n === undefined) {
      throw wrongType(`${ctx.name}.maxAwaitTimeMS`, rawWait, 'long');
    }
    if (n < 0) throw notAtLeast('maxAwaitTimeMS', 0, n);
    maxAwaitTimeMS = n;
  }
  if (request.exhaustAllowed && !hasWait && hasTv) {
    throw new MongoError(LocationCodes.ExhaustWithoutAwait, "An isMaster or hello request with exhaust must specify 'maxAwaitTimeMS'");
  }
  if (hasTv && !hasWait) {
    throw new MongoError(LocationCodes.TopologyVersionWithoutAwait, "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'");
  }
  if (hasWait && !hasTv) {
    throw new MongoError(LocationCodes.TopologyVersionWithoutAwait, "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'");
  }
  if (!hasTv) return;
  if (typeof tv !== 'object' || Array.isArray(tv)) {
    throw wrongType(`${ctx.name}.topologyVersion`, tv, 'object');
  }
  const { processId, counter } = tv as Document;
  const clientCounter = numberValue(counter);
  if (!(processId instanceof ObjectId) || clientCounter === undefined) {
    throw missingField(`${ctx.name}.topologyVersion.processId`);
  }
  if (clientCounter < 0) throw new MongoError(LocationCodes.NegativeTopologyCounter, 'topologyVersion must have a non-negative counter');

  if (request.exhaustAllowed) {
    // Keep streaming: each next reply waits on the topology version this one reports.
    ctx.exhaust = {
      next: { ...body, topologyVersion: { processId: server.topology.processId, counter: Long.fromNumber(server.topology.counter) } },
    };
  }
  // A different process (we restarted) or an older counter: the client is stale, answer now.
  if (!processId.equals(server.topology.processId)) return;
  if (clientCounter !== server.topology.counter) {
    throw new MongoError(
      LocationCodes.TopologyCounterMismatch,
      `Received a topology version with counter: ${clientCounter} which is greater than the server topology version counter: ${server.topology.counter}`,
    );
  }
  await waitFor(ctx, maxAwaitTimeMS);
  if (ctx.exhaust !== undefined) {
    ctx.exhaust.next.topologyVersion = {
      processId: server.topology.processId,
      counter: Long.fromNumber(server.topology.counter),
    };
  }
}

/** Resolves after `ms` (on the server's clock), on a topology change, or when the connection closes. */
function waitFor(ctx: CommandContext, ms: number): Promise<void> {
  const { server, signal } = ctx;
  if (ms === 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      server.clock.clearTimer(timer);
      cancelTopologyWait();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = server.clock.setTimer(ms, done);
    const cancelTopologyWait = server.topology.onChange(done);
    signal.addEventListener('abort', done, { once: true });
  });
}
