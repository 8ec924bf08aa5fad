import { missingField, notAtLeast, wrongType } from '../bson/idlErrors.js';
import { BSON, Int32, Long, ObjectId, type Document } from 'bson';
import { ErrorCodes, MongoError, LocationCodes } from '../errors.js';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE_BYTES } from '../bson/limits.js';
import { negotiateCompressors } from '../wire/compression.js';
import { saslSupportedMechsFor } from '../auth/scram.js';
import { isPlainObject, numberValue } from '../bson/args.js';
import { startSasl } from './auth.js';
import { redactForLog } from '../bson/redact.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

export const MIN_WIRE_VERSION = 0;
/** mongod 7.0. */
export const MAX_WIRE_VERSION = 21;
export const MAX_WRITE_BATCH_SIZE = 100_000;

/** kMaxMongoDMetadataDocumentByteLength. */
const MAX_CLIENT_METADATA_SIZE = 512;

/**
 * hello / isMaster / ismaster: mongod 7.0's reply (replication_info.cpp), as a standalone or as
 * the primary of a one-member set (hello_response.cpp adds the set's fields). With
 * topologyVersion + maxAwaitTimeMS it is awaitable: held until the wait ends or the topology
 * changes; with exhaustAllowed the connection then streams it (ctx.exhaust).
 */
async function hello(ctx: CommandContext<'auth' | 'log' | 'topology' | 'clock' | 'params' | 'replication'>): Promise<Document> {
  const { body, client, services } = ctx;
  const legacy = ctx.name !== 'hello';

  if (body.client !== undefined && body.client !== null) {
    if (client.helloCount > 0) {
      throw new MongoError(
        ErrorCodes.ClientMetadataCannotBeMutated,
        'The client metadata document may only be sent in the first hello',
      );
    }
    if (typeof body.client !== 'object' || Array.isArray(body.client)) {
      throw wrongType(`${ctx.name}.client`, body.client, 'object');
    }
    // ClientMetadata::parse: a mongod takes at most 512 bytes of metadata.
    if (BSON.calculateObjectSize(body.client as Document) > MAX_CLIENT_METADATA_SIZE) {
      throw new MongoError(ErrorCodes.ClientMetadataDocumentTooLarge, `The client metadata document must be less then or equal to ${MAX_CLIENT_METADATA_SIZE} bytes`);
    }
    client.metadata = body.client as Document;
    services.log.info({
      c: 'NETWORK',
      id: 51800,
      ctx: `conn${client.id}`,
      msg: 'client metadata',
      attr: { remote: client.remote, client: `conn${client.id}`, doc: redactForLog(body.client as Document) },
    });
  }
  client.helloCount += 1;

  await awaitTopologyChange(ctx);

  const reply: Document = {};
  if (body.helloOk === true) reply.helloOk = true;
  // A standalone puts isWritablePrimary before topologyVersion; a set member puts it among the set's fields after it.
  if (services.replication === undefined) reply[legacy ? 'ismaster' : 'isWritablePrimary'] = true;
  reply.topologyVersion = { processId: services.topology.processId, counter: Long.fromNumber(services.topology.counter) };
  if (services.replication !== undefined) Object.assign(reply, services.replication.helloFields(legacy));
  reply.maxBsonObjectSize = new Int32(MAX_BSON_OBJECT_SIZE);
  reply.maxMessageSizeBytes = new Int32(MAX_MESSAGE_SIZE_BYTES);
  reply.maxWriteBatchSize = new Int32(MAX_WRITE_BATCH_SIZE);
  reply.localTime = new Date(services.clock.now());
  reply.logicalSessionTimeoutMinutes = new Int32(services.params.int('localLogicalSessionTimeoutMinutes'));
  reply.connectionId = new Int32(client.id);
  reply.minWireVersion = new Int32(MIN_WIRE_VERSION);
  reply.maxWireVersion = new Int32(MAX_WIRE_VERSION);
  reply.readOnly = false;
  if (Array.isArray(body.compression)) {
    // Negotiated once per connection, in the client's order (MessageCompressorManager::serverNegotiate).
    if (client.compressors.length === 0) client.compressors = negotiateCompressors(body.compression);
    reply.compression = [...client.compressors];
  }
  if (typeof body.saslSupportedMechs === 'string') {
    // "<db>.<user>": the mechanisms that user can log in with; omitted for an unknown user.
    const dot = body.saslSupportedMechs.indexOf('.');
    const credentials =
      dot < 0 ? undefined : services.auth.users.credentialsOf(body.saslSupportedMechs.slice(0, dot), body.saslSupportedMechs.slice(dot + 1));
    const mechanisms = saslSupportedMechsFor(credentials);
    if (mechanisms !== undefined) reply.saslSupportedMechs = mechanisms;
  }
  if (isPlainObject(body.speculativeAuthenticate) && typeof body.speculativeAuthenticate.db === 'string') {
    // A saslStart inside the handshake; any failure just leaves the answer out (sasl_commands.cpp),
    // and the driver then authenticates explicitly.
    try {
      reply.speculativeAuthenticate = startSasl(ctx, body.speculativeAuthenticate.db, body.speculativeAuthenticate, true);
    } catch {
      client.principal.sasl = undefined;
    }
  }
  return reply;
}

/** The awaitable part of hello: validates topologyVersion/maxAwaitTimeMS and waits when asked to. */
async function awaitTopologyChange(ctx: CommandContext<'topology' | 'clock'>): Promise<void> {
  const { body, services, request } = ctx;
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
      next: { ...body, topologyVersion: { processId: services.topology.processId, counter: Long.fromNumber(services.topology.counter) } },
    };
  }
  // A different process (we restarted) or an older counter: the client is stale, answer now.
  if (!processId.equals(services.topology.processId)) return;
  if (clientCounter !== services.topology.counter) {
    throw new MongoError(
      LocationCodes.TopologyCounterMismatch,
      `Received a topology version with counter: ${clientCounter} which is greater than the server topology version counter: ${services.topology.counter}`,
    );
  }
  await waitFor(ctx, maxAwaitTimeMS);
  if (ctx.exhaust !== undefined) {
    ctx.exhaust.next.topologyVersion = {
      processId: services.topology.processId,
      counter: Long.fromNumber(services.topology.counter),
    };
  }
}

/** Resolves after `ms` (on the server's clock), on a topology change, or when the connection closes. */
function waitFor(ctx: CommandContext<'topology' | 'clock'>, ms: number): Promise<void> {
  const { services, signal } = ctx;
  if (ms === 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      services.clock.clearTimer(timer);
      cancelTopologyWait();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = services.clock.setTimer(ms, done);
    const cancelTopologyWait = services.topology.onChange(done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The handshake (hello and its legacy aliases). */
export const helloCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'hello',
    aliases: ['isMaster', 'ismaster'],
    run: hello,
    requiresAuth: false,
    apiVersion1: true,
    neverSlow: true,
    // The legacy handshake: drivers open with an OP_QUERY isMaster.
    opQuery: true,
    help: 'Check if this server is primary for a replica set\n{ hello : 1 }',
  }),
];
