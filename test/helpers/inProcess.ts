/**
 * An in-process server for unit tests of the command pipeline: real services (wireServices), a
 * virtual clock, a silent log, and requests built as the wire decoder builds them, handed to
 * `dispatch` without any socket. Nothing here is shared between two servers.
 */
import { createHash } from 'node:crypto';
import { Binary, BSON, type Document, type UUID } from 'bson';
import { expect } from 'vitest';
import type { RoleName } from '../../src/auth/roles.js';
import { VirtualClock } from '../../src/clock.js';
import { Client } from '../../src/commands/client.js';
import { dispatch, type DispatchResult } from '../../src/commands/request/dispatch.js';
import { Parameters } from '../../src/commands/serverParameters.js';
import type { Services } from '../../src/commands/services.js';
import { Log } from '../../src/log.js';
import { wireServices } from '../../src/server/services.js';
import { decodeDocument, encodeDocument } from '../../src/bson/codec.js';
import { firstFieldName } from '../../src/wire/bson.js';
import type { WireRequest } from '../../src/wire/request.js';
import { ScramClient } from '../unit/auth/scramClient.js';

export interface InProcessOptions {
  auth?: boolean;
  transitionToAuth?: boolean;
  /** Startup parameters, as --setParameter gives them (strings or values). */
  setParameter?: Record<string, unknown>;
  clock?: VirtualClock;
  slowms?: number;
  /** Run as a one-member replica set of this name (--replSet): transactions and retryable writes work. */
  replSet?: string;
}

/** The oplog size limit of an in-process replica set: the floor of the default (defaultOplogBytes), 50 MB. */
const IN_PROCESS_OPLOG_BYTES = 50 * 1024 * 1024;

export interface RequestOptions {
  /** OP_MSG (default) or the legacy OP_QUERY on `<db>.$cmd`. */
  protocol?: 'OP_MSG' | 'OP_QUERY';
  /** OP_QUERY's database (OP_MSG takes `$db` from the body). Default 'admin'. */
  db?: string;
  exhaustAllowed?: boolean;
  moreToCome?: boolean;
}

export interface InProcessServer {
  readonly services: Services;
  readonly clock: VirtualClock;
  /** A client connection (registered in services.clients), from `remote` (default 127.0.0.1). */
  client(options?: { remote?: string }): Client;
  /** The WireRequest decodeRequest would make of this command. */
  request(body: Document, options?: RequestOptions): WireRequest;
  /** Runs one command through dispatch and returns its reply. */
  run(client: Client, body: Document, options?: RequestOptions): Promise<Document>;
  /** Runs one command through dispatch and returns the whole result (exhaustNext too). */
  dispatch(client: Client, body: Document, options?: RequestOptions): Promise<DispatchResult>;
  /** Creates a user in the user store (root on admin unless roles are given). */
  createUser(user: string, db: string, roles?: RoleName[], pwd?: string): void;
  /** Logs `client` in as user@db directly (creating the user if it does not exist). */
  login(client: Client, user: string, db: string, roles?: RoleName[]): void;
  /** A real SCRAM conversation (saslStart, saslContinue...) through dispatch; the last reply. */
  scramLogin(client: Client, user: string, pwd: string, db: string, mechanism?: 'SCRAM-SHA-1' | 'SCRAM-SHA-256'): Promise<Document>;
  stop(): void;
}

export const DEFAULT_PASSWORD = 'pwd';

let nextRequestId = 1;

/** The bytes of an OP_MSG (header, flags, kind-0 section) or OP_QUERY (header, flags, ns, skip, return) around a body. */
function messageLength(protocol: 'OP_MSG' | 'OP_QUERY', db: string | undefined, bodyBytes: number): number {
  return protocol === 'OP_MSG' ? 16 + 4 + 1 + bodyBytes : 16 + 4 + Buffer.byteLength(`${db}.$cmd`) + 1 + 8 + bodyBytes;
}

export function inProcessServer(options: InProcessOptions = {}): InProcessServer {
  const clock = options.clock ?? new VirtualClock();
  const params = new Parameters(options.setParameter ?? {});
  // No logpath, no stdout, no sink: the log lands only in its RamLog (log.global).
  const log = new Log({ quiet: true });
  const wiring = wireServices(params, log, clock, {
    cmdLine: { argv: ['pocketmongo'], parsed: {} },
    slowms: options.slowms ?? 100,
    requestShutdown: () => undefined,
    auth: { enabled: options.auth ?? false, transitionToAuth: options.transitionToAuth ?? false },
    ...(options.replSet === undefined ? {} : { replSet: { name: options.replSet, oplogBytes: IN_PROCESS_OPLOG_BYTES } }),
  });
  const { services } = wiring;
  const clients: Client[] = [];
  let nextClientId = 1;

  const request = (body: Document, requestOptions: RequestOptions = {}): WireRequest => {
    const protocol = requestOptions.protocol ?? 'OP_MSG';
    // Through the real codec: the body's values get the types a decoded request has (Int32, Double...).
    const bytes = encodeDocument(body);
    const decoded = decodeDocument(bytes);
    const db = protocol === 'OP_MSG' ? (typeof decoded.$db === 'string' ? decoded.$db : undefined) : (requestOptions.db ?? 'admin');
    const length = messageLength(protocol, db, bytes.length);
    return {
      protocol,
      requestId: nextRequestId++,
      moreToCome: protocol === 'OP_MSG' && (requestOptions.moreToCome ?? false),
      checksumPresent: false,
      compressorId: undefined,
      body: decoded,
      commandName: firstFieldName(bytes) ?? '',
      db,
      exhaustAllowed: protocol === 'OP_MSG' && (requestOptions.exhaustAllowed ?? false),
      byteLength: length,
      messageLength: length,
    };
  };

  const dispatchOne = (client: Client, body: Document, requestOptions?: RequestOptions): Promise<DispatchResult> =>
    Promise.resolve(dispatch(services, client, request(body, requestOptions), client.closed));

  const run = async (client: Client, body: Document, requestOptions?: RequestOptions): Promise<Document> =>
    (await dispatchOne(client, body, requestOptions)).reply;

  const createUser = (user: string, db: string, roles: RoleName[] = [{ role: 'root', db: 'admin' }], pwd = DEFAULT_PASSWORD): void => {
    services.auth.users.create(
      { user, db, pwd, roles },
      { scramIterationCount: params.int('scramIterationCount'), scramSHA256IterationCount: params.int('scramSHA256IterationCount') },
    );
  };

  return {
    services,
    clock,
    client({ remote = '127.0.0.1:50000' } = {}) {
      const id = nextClientId++;
      const client = new Client(id, remote, '127.0.0.1:27017', clock.now());
      services.clients.open.set(id, client);
      services.clients.totalCreated += 1;
      clients.push(client);
      return client;
    },
    request,
    run,
    dispatch: dispatchOne,
    createUser,
    login(client, user, db, roles) {
      if (services.auth.users.find(db, user) === undefined) createUser(user, db, roles);
      client.principal.user = { user, db };
    },
    async scramLogin(client, user, pwd, db, mechanism = 'SCRAM-SHA-256') {
      const scram = new ScramClient(mechanism, user, pwd);
      const started = await run(client, { saslStart: 1, mechanism, payload: new Binary(scram.clientFirst()), $db: db });
      if (Number(started.ok) !== 1) return started;
      let reply = await run(client, {
        saslContinue: 1,
        conversationId: started.conversationId,
        payload: new Binary(scram.clientFinal(payloadOf(started))),
        $db: db,
      });
      if (Number(reply.ok) !== 1) return reply;
      // The server proves it knows the credentials too (RFC 5802 server-final).
      if (!scram.verifyServerFinal(payloadOf(reply))) throw new Error('server signature does not verify');
      if (reply.done !== true) {
        reply = await run(client, { saslContinue: 1, conversationId: started.conversationId, payload: new Binary(Buffer.alloc(0)), $db: db });
      }
      return reply;
    },
    stop() {
      for (const client of clients.splice(0)) {
        client.markClosed();
        services.clients.open.delete(client.id);
      }
      wiring.stopJobs();
    },
  };
}

function payloadOf(reply: Document): Buffer {
  const payload = reply.payload;
  if (!(payload instanceof Binary)) throw new Error('the SASL reply has no BinData payload');
  return Buffer.from(payload.value());
}

/**
 * Servers made by `servers.make` are stopped by `servers.stopAll` (call it in afterEach), so
 * a failing test never leaves jobs behind.
 */
export function serverPool(): { make(options?: InProcessOptions): InProcessServer; stopAll(): void } {
  const live: InProcessServer[] = [];
  return {
    make(options) {
      const server = inProcessServer(options);
      live.push(server);
      return server;
    },
    stopAll() {
      for (const server of live.splice(0)) server.stop();
    },
  };
}

/** A reply as a driver sees it (BSON round trip, values promoted): for whole-document comparisons. */
export function plain(reply: Document): Document {
  return BSON.deserialize(BSON.serialize(reply));
}

/** The reply succeeded: `ok` is the Double 1 (the errmsg shows up in the failure message otherwise). */
export function expectOk(reply: Document): Document {
  expect(reply.ok?._bsontype, `not ok: ${JSON.stringify(plain(reply))}`).toBe('Double');
  expect(Number(reply.ok), `not ok: ${String(reply.errmsg)}`).toBe(1);
  return reply;
}

/**
 * The reply is exactly mongod's error document `{ok: 0.0, errmsg, code, codeName}`, in that
 * order (errmsg may be a RegExp); `extra` lists any fields expected after codeName.
 */
export function expectError(reply: Document, code: number, codeName: string, errmsg?: string | RegExp, extra: Document = {}): void {
  expect(reply.ok?._bsontype).toBe('Double');
  expect(Number(reply.ok), `expected an error, got ${JSON.stringify(plain(reply))}`).toBe(0);
  expect({ code: reply.code, codeName: reply.codeName }, String(reply.errmsg)).toEqual({ code, codeName });
  if (typeof errmsg === 'string') expect(reply.errmsg).toBe(errmsg);
  else if (errmsg !== undefined) expect(reply.errmsg).toMatch(errmsg);
  expect(Object.keys(reply)).toEqual(['ok', 'errmsg', 'code', 'codeName', ...Object.keys(extra)]);
  for (const [key, value] of Object.entries(extra)) expect(reply[key]).toEqual(value);
}

/** mongod's text form of an lsid (§1.1): "<uuid> - <base64 uid> -  - " (no txnNumber, no txnUUID). */
export function lsidText(id: UUID, uid: Buffer = createHash('sha256').update('').digest()): string {
  return `${id.toHexString(true)} - ${uid.toString('base64')} -  - `;
}

/** The sessions `{aggregate: 1, pipeline: [{$listLocalSessions: spec}]}` lists, as returned. */
export async function listLocalSessions(server: InProcessServer, client: Client, spec: Document = { allUsers: true }): Promise<Document[]> {
  const reply = expectOk(await server.run(client, { aggregate: 1, pipeline: [{ $listLocalSessions: spec }], cursor: {}, $db: 'admin' }));
  return (reply.cursor as Document).firstBatch as Document[];
}

/** The ids (hex, no dashes) of the sessions $listLocalSessions lists. */
export async function listedIds(server: InProcessServer, client: Client, spec?: Document): Promise<string[]> {
  return (await listLocalSessions(server, client, spec)).map((d) => Buffer.from(((d._id as Document).id as Binary).value()).toString('hex'));
}
