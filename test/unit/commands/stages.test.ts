/**
 * Each stage of the command pipeline on its own (resolve, authenticate, attach session,
 * authorize, run, reply), then the stages composed by dispatch. The expected errors are mongod
 * 7.0's (sessions-semantics.md §3.1-3.2, commands.cpp, check_allowed_op_query_cmd.cpp).
 */
import { createHash } from 'node:crypto';
import { Binary, Double, Int32, Long, ObjectId, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import { defineCommand, type CommandSpec } from '../../../src/commands/command.js';
import { COMMAND_TABLE, CommandRegistry } from '../../../src/commands/commandTable.js';
import { SessionOperation } from '../../../src/commands/operation.js';
import { attachSession } from '../../../src/commands/request/attachSession.js';
import { checkAuthenticated, usesLocalhostException } from '../../../src/commands/request/authenticate.js';
import { checkPrivileges } from '../../../src/commands/request/authorize.js';
import { dispatch } from '../../../src/commands/request/dispatch.js';
import { Invocation } from '../../../src/commands/request/invocation.js';
import { failureReply, OK_REPLY, OK_REPLY_BSON, okReply, replyBody } from '../../../src/commands/request/reply.js';
import { encodeDocument } from '../../../src/bson/codec.js';
import { withFields } from '../../../src/bson/fields.js';
import { resolveCommand } from '../../../src/commands/request/resolve.js';
import { runCommand } from '../../../src/commands/request/run.js';
import type { Client } from '../../../src/commands/client.js';
import type { Services } from '../../../src/commands/services.js';
import { MongoError } from '../../../src/errors.js';
import type { SessionRecord } from '../../../src/sessions/sessionRegistry.js';
import { NO_AUTH_UID } from '../../../src/sessions/logicalSessionId.js';
import { expectError, expectOk, plain, serverPool, type InProcessServer, type RequestOptions } from '../../helpers/inProcess.js';
import { expectMongoError, newLsid } from '../sessions/helpers.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

/** The spec a command resolves to (it must exist). */
function specOf(server: InProcessServer, name: string): CommandSpec {
  const spec = server.services.commands.find(name);
  if (spec === undefined) throw new Error(`no command ${name}`);
  return spec;
}

function resolve(server: InProcessServer, body: Document, options?: RequestOptions, shuttingDown = false): CommandSpec {
  return resolveCommand(server.services.commands, server.request(body, options), shuttingDown);
}

/** A CommandContext as dispatch makes it. */
function invocation(server: InProcessServer, client: Client, body: Document, session?: SessionRecord, operation?: SessionOperation): Invocation {
  return new Invocation(server.services, client, server.request(body), session, client.closed, operation);
}

/** The server's services with extra (test-only) commands in the table. */
function withCommands(services: Services, ...extra: CommandSpec[]): Services {
  return { ...services, commands: new CommandRegistry([...COMMAND_TABLE, ...extra], { enableTestCommands: false }) };
}

/** A command whose handler waits until `release()`; `running` counts handlers under way. */
function gatedCommand(name: string): { spec: CommandSpec; release(): void; seenSignal: () => AbortSignal | undefined } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let signal: AbortSignal | undefined;
  const spec = defineCommand({
    name,
    help: 'test only',
    run: async (ctx) => {
      signal = ctx.signal;
      await gate;
      return { finished: true };
    },
  });
  return { spec, release: () => open(), seenSignal: () => signal };
}

function logEntries(server: InProcessServer): Document[] {
  return server.services.log.global.all().map((line) => JSON.parse(line) as Document);
}

// ---------------------------------------------------------------------------------------------

describe('resolve', () => {
  test('an unknown command: CommandNotFound 59', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { x: 1, $db: 'admin' }), 59, "no such command: 'x'");
  });

  test('aliases resolve to their command (isMaster is hello, buildinfo is buildInfo)', () => {
    const server = servers.make();
    expect(resolve(server, { isMaster: 1, $db: 'admin' }).name).toBe('hello');
    expect(resolve(server, { buildinfo: 1, $db: 'admin' }).name).toBe('buildInfo');
  });

  test('OP_QUERY: only the handshake and auth commands are taken (352 otherwise)', () => {
    const server = servers.make();
    expectMongoError(
      () => resolve(server, { find: 'c' }, { protocol: 'OP_QUERY', db: 'test' }),
      352,
      'Unsupported OP_QUERY command: find. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal',
    );
    // ping is an ordinary command: drivers of mongod 5.1+ must send it over OP_MSG.
    expectMongoError(() => resolve(server, { ping: 1 }, { protocol: 'OP_QUERY' }), 352);
    for (const name of ['hello', 'isMaster', 'ismaster', 'buildinfo', 'buildInfo', 'saslStart', 'saslContinue']) {
      const spec = resolve(server, { [name]: 1 }, { protocol: 'OP_QUERY', db: 'admin' });
      expect(spec.opQuery, name).toBe(true);
    }
  });

  test('OP_QUERY authenticate passes the OP_QUERY check, then is not found (mongod order of checks)', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { authenticate: 1 }, { protocol: 'OP_QUERY' }), 59, "no such command: 'authenticate'");
  });

  test('OP_MSG without $db: 40571; $db not a string: TypeMismatch', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { ping: 1 }), 40571, 'OP_MSG requests require a $db argument');
    expectMongoError(() => resolve(server, { ping: 1, $db: 1 }), 14, "BSON field '$db' is the wrong type, expected type 'string'");
  });

  test('an invalid database name: InvalidNamespace 73, before the command is looked up', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { ping: 1, $db: 'a.b' }), 73, "Invalid database name: 'a.b'");
    expectMongoError(() => resolve(server, { ping: 1, $db: '' }), 73, "Invalid database name: ''");
    expectMongoError(() => resolve(server, { ping: 1, $db: 'x'.repeat(64) }), 73);
    expectMongoError(() => resolve(server, { nosuch: 1, $db: 'a b' }), 73);
    // OP_QUERY takes the namespace's database.
    expectMongoError(() => resolve(server, { hello: 1 }, { protocol: 'OP_QUERY', db: 'a$b' }), 73);
  });

  test('adminOnly on another database: Unauthorized 13', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { getLog: 'global', $db: 'test' }), 13, 'getLog may only be run against the admin database.');
    expect(resolve(server, { getLog: 'global', $db: 'admin' }).name).toBe('getLog');
  });

  test('Stable API: apiStrict rejects commands outside API version 1 (323); apiStrict without apiVersion 4886600; version "2" 322', () => {
    const server = servers.make();
    expectMongoError(
      () => resolve(server, { serverStatus: 1, apiVersion: '1', apiStrict: true, $db: 'admin' }),
      323,
      'Provided apiStrict:true, but the command serverStatus is not in API Version 1. Information on supported commands and migrations in API Version 1 can be found at https://dochub.mongodb.org/core/manual-versioned-api.',
    );
    expect(resolve(server, { ping: 1, apiVersion: '1', apiStrict: true, $db: 'admin' }).name).toBe('ping');
    expect(resolve(server, { serverStatus: 1, apiVersion: '1', apiStrict: false, $db: 'admin' }).name).toBe('serverStatus');
    expectMongoError(
      () => resolve(server, { ping: 1, apiStrict: true, $db: 'admin' }),
      4886600,
      'Provided apiStrict and/or apiDeprecationErrors without passing apiVersion',
    );
    expectMongoError(() => resolve(server, { ping: 1, apiDeprecationErrors: true, $db: 'admin' }), 4886600);
    expectMongoError(() => resolve(server, { ping: 1, apiVersion: '2', $db: 'admin' }), 322, 'API version must be "1"');
    expectMongoError(() => resolve(server, { ping: 1, apiVersion: 1, $db: 'admin' }), 14, "BSON field 'apiVersion' is the wrong type 'int', expected type 'string'");
  });

  test('strict (IDL strict: true) commands refuse unknown fields with 40415; generic arguments pass', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { ping: 1, foo: 1, $db: 'admin' }), 40415, "BSON field 'ping.foo' is an unknown field.");
    expectMongoError(
      () => resolve(server, { refreshSessions: [], foo: 1, $db: 'admin' }),
      40415,
      "BSON field 'refreshSessions.foo' is an unknown field.",
    );
    const generic = { lsid: { id: new UUID() }, comment: 'hi', maxTimeMS: 10, $readPreference: { mode: 'primary' } };
    expect(resolve(server, { ping: 1, ...generic, $db: 'admin' }).name).toBe('ping');
    // find is not strict: an unknown field is the handler's business.
    expect(resolve(server, { find: 'c', foo: 1, $db: 'test' }).name).toBe('find');
  });

  test('writeConcern on a command that does not support it: InvalidOptions 72', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { startSession: 1, writeConcern: { w: 1 }, $db: 'admin' }), 72, 'Command does not support writeConcern');
    expectMongoError(() => resolve(server, { find: 'c', writeConcern: { w: 1 }, $db: 'test' }), 72);
    // Drivers end their sessions with {w: 0} on close: endSessions takes it.
    expect(resolve(server, { endSessions: [], writeConcern: { w: 0 }, $db: 'admin' }).name).toBe('endSessions');
    expect(resolve(server, { insert: 'c', documents: [], writeConcern: { w: 1 }, $db: 'test' }).name).toBe('insert');
  });

  test('shutting down: ShutdownInProgress 91, after the request itself validated', () => {
    const server = servers.make();
    expectMongoError(() => resolve(server, { ping: 1, $db: 'admin' }, {}, true), 91, 'The server is in quiesce mode and will shut down');
    // A malformed request still gets its own error first.
    expectMongoError(() => resolve(server, { nosuch: 1, $db: 'admin' }, {}, true), 59);
  });

  test('test-only commands exist only with enableTestCommands', () => {
    expectMongoError(() => resolve(servers.make(), { refreshLogicalSessionCacheNow: 1, $db: 'admin' }), 59);
    const enabled = servers.make({ setParameter: { enableTestCommands: true } });
    expect(resolve(enabled, { refreshLogicalSessionCacheNow: 1, $db: 'admin' }).testOnly).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------

describe('authenticate', () => {
  test('under --auth a requiresAuth command needs a login: 13 "Command find requires authentication"', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    expectMongoError(() => checkAuthenticated(server.services.auth, client, specOf(server, 'find'), 'test'), 13, 'Command find requires authentication');
    server.login(client, 'alice', 'admin');
    checkAuthenticated(server.services.auth, client, specOf(server, 'find'), 'test');
  });

  test('commands that do not require auth pass (hello, saslStart, ping, logout)', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    for (const name of ['hello', 'saslStart', 'saslContinue', 'ping', 'logout', 'buildInfo', 'connectionStatus']) {
      checkAuthenticated(server.services.auth, client, specOf(server, name), 'admin');
    }
  });

  test('without --auth, and under --transitionToAuth, nothing requires a login', () => {
    for (const options of [{}, { transitionToAuth: true }]) {
      const server = servers.make(options);
      checkAuthenticated(server.services.auth, server.client(), specOf(server, 'find'), 'test');
    }
  });

  test('the localhost exception: createUser on admin, from loopback, while no user exists', () => {
    const server = servers.make({ auth: true });
    const { auth } = server.services;
    const createUser = specOf(server, 'createUser');
    const local = server.client({ remote: '127.0.0.1:5000' });
    const local6 = server.client({ remote: '[::1]:5000' });
    const remote = server.client({ remote: '10.1.2.3:5000' });
    checkAuthenticated(auth, local, createUser, 'admin');
    checkAuthenticated(auth, local6, createUser, 'admin');
    expect(usesLocalhostException(auth, local, createUser)).toBe(true);
    // Not from another host, not on another database, not for another command.
    expectMongoError(() => checkAuthenticated(auth, remote, createUser, 'admin'), 13, 'Command createUser requires authentication');
    expect(usesLocalhostException(auth, remote, createUser)).toBe(false);
    expectMongoError(() => checkAuthenticated(auth, local, createUser, 'test'), 13);
    expectMongoError(() => checkAuthenticated(auth, local, specOf(server, 'find'), 'admin'), 13, 'Command find requires authentication');
    // Once a user exists the exception closes.
    server.createUser('first', 'admin');
    expectMongoError(() => checkAuthenticated(auth, local, createUser, 'admin'), 13, 'Command createUser requires authentication');
    expect(usesLocalhostException(auth, local, createUser)).toBe(false);
  });

  test('through dispatch: the first createUser from localhost succeeds, the second is refused', async () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    expectOk(await server.run(client, { createUser: 'root', pwd: 'pw', roles: ['root'], $db: 'admin' }));
    expect(server.services.auth.users.find('admin', 'root')).toBeDefined();
    expectError(
      await server.run(client, { createUser: 'other', pwd: 'pw', roles: ['root'], $db: 'admin' }),
      13,
      'Unauthorized',
      'Command createUser requires authentication',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('attachSession', () => {
  const P = 'OperationSessionInfo.lsid';

  function attach(server: InProcessServer, client: Client, body: Document): SessionRecord | undefined {
    return attachSession(server.services, client, specOf(server, String(Object.keys(body)[0])), server.request(body).body);
  }

  test('no session fields: no session', () => {
    const server = servers.make();
    expect(attach(server, server.client(), { find: 'c', $db: 'test' })).toBeUndefined();
    // lsid: null is no lsid (optional IDL fields ignore null).
    expect(attach(server, server.client(), { find: 'c', lsid: null, $db: 'test' })).toBeUndefined();
    expect(server.services.sessions.size).toBe(0);
  });

  test('an lsid vivifies its session, owned by the no-auth uid SHA-256("")', () => {
    const server = servers.make();
    const client = server.client();
    const id = new UUID();
    const record = attach(server, client, { find: 'c', lsid: { id }, $db: 'test' });
    expect(record).toBeDefined();
    expect(server.services.sessions.size).toBe(1);
    expect(record!.uid.equals(createHash('sha256').update('').digest())).toBe(true);
    expect(record!.uid.equals(NO_AUTH_UID)).toBe(true);
    expect(record!.user).toBeUndefined();
    expect(record!.lsid.id.toString('hex')).toBe(id.toHexString(false));
    // The same lsid again (any command, any client) is the same session.
    expect(attach(server, server.client(), { ping: 1, lsid: { id }, $db: 'admin' })).toBe(record);
    expect(server.services.sessions.size).toBe(1);
  });

  test('hello with an lsid vivifies too when auth is off (verify_session_cache_updates.js)', () => {
    const server = servers.make();
    expect(attach(server, server.client(), { hello: 1, lsid: { id: new UUID() }, $db: 'admin' })).toBeDefined();
    expect(server.services.sessions.size).toBe(1);
  });

  test.each([
    { label: 'a string', lsid: 'invalid', code: 14, errmsg: `BSON field '${P}' is the wrong type 'string', expected type 'object'` },
    { label: '{}', lsid: {}, code: 40414, errmsg: `BSON field '${P}.id' is missing but a required field` },
    { label: 'id a string', lsid: { id: 'invalid' }, code: 14, errmsg: `BSON field '${P}.id' is the wrong type 'string', expected type 'binData'` },
    { label: 'id BinData(1)', lsid: { id: new Binary(Buffer.alloc(0), 1) }, code: 14, errmsg: `BSON field '${P}.id' is the wrong binData type 'function', expected type 'UUID'` },
    { label: 'id BinData(4) of 15 bytes', lsid: { id: new Binary(Buffer.alloc(15), 4) }, code: 207, errmsg: 'uuid must be a 16-byte binary field with UUID (4) subtype' },
    { label: 'an unknown field', lsid: { id: new UUID(), foo: 1 }, code: 40415, errmsg: `BSON field '${P}.foo' is an unknown field.` },
    { label: 'uid a string', lsid: { id: new UUID(), uid: 'x' }, code: 14, errmsg: `BSON field '${P}.uid' is the wrong type 'string', expected type 'binData'` },
    { label: 'uid of 31 bytes', lsid: { id: new UUID(), uid: new Binary(Buffer.alloc(31), 0) }, code: 12, errmsg: 'Unsupported SHA256Block hash length: 31' },
    { label: 'uid a UUID', lsid: { id: new UUID(), uid: new UUID() }, code: 14, errmsg: `BSON field '${P}.uid' is the wrong binData type 'UUID', expected type 'general'` },
  ])('a malformed lsid ($label): mongod IDL error $code, and no session', ({ lsid, code, errmsg }) => {
    const server = servers.make();
    expectMongoError(() => attach(server, server.client(), { find: 'c', lsid, $db: 'test' }), code, errmsg);
    expect(server.services.sessions.size).toBe(0);
  });

  test('transaction fields on a standalone (§3.1 steps 7-8)', () => {
    const server = servers.make();
    const client = server.client();
    const txnNumber = Long.fromNumber(1);
    expectMongoError(
      () => attach(server, client, { find: 'c', lsid: { id: new UUID() }, txnNumber, $db: 'test' }),
      20,
      'Transaction numbers are only allowed on a replica set member or mongos',
    );
    expectMongoError(
      () => attach(server, client, { find: 'c', txnNumber, $db: 'test' }),
      72,
      'Transaction number requires a session ID to also be specified',
    );
    for (const lsid of [undefined, { id: new UUID() }]) {
      expectMongoError(
        () => attach(server, client, { find: 'c', ...(lsid === undefined ? {} : { lsid }), autocommit: false, $db: 'test' }),
        72,
        "'autocommit' field requires a transaction number to also be specified",
      );
    }
    expectMongoError(
      () => attach(server, client, { find: 'c', startTransaction: true, $db: 'test' }),
      72,
      "'startTransaction' field requires 'autocommit' field to also be specified",
    );
    expectMongoError(
      () => attach(server, client, { find: 'c', lsid: { id: new UUID() }, txnNumber: 'x', $db: 'test' }),
      14,
      "BSON field 'OperationSessionInfo.txnNumber' is the wrong type 'string', expected type 'long'",
    );
    expectMongoError(
      () => attach(server, client, { find: 'c', autocommit: 1, $db: 'test' }),
      14,
      "BSON field 'OperationSessionInfo.autocommit' is the wrong type 'int', expected type 'bool'",
    );
  });

  test('on a command that needs no auth (hello): txnNumber 50889, autocommit 263 (§3.1 step 3)', () => {
    const server = servers.make();
    const client = server.client();
    expectMongoError(
      () => attach(server, client, { hello: 1, lsid: { id: new UUID() }, txnNumber: Long.fromNumber(1), $db: 'admin' }),
      50889,
      'It is illegal to provide a txnNumber for this command',
    );
    expectMongoError(
      () => attach(server, client, { hello: 1, lsid: { id: new UUID() }, autocommit: false, $db: 'admin' }),
      263,
      'This command is not supported in transactions',
    );
  });

  test('a child (internal) session lsid: 72', () => {
    const server = servers.make();
    expectMongoError(
      () => attach(server, server.client(), { find: 'c', lsid: { id: new UUID(), txnNumber: Long.fromNumber(1), txnUUID: new UUID() }, $db: 'test' }),
      72,
      'Internal sessions are only allowed for internal clients',
    );
  });

  test('the kill commands (attachesSession false) validate the lsid but do not vivify it', () => {
    const server = servers.make();
    const client = server.client();
    expect(specOf(server, 'killSessions').attachesSession).toBe(false);
    expect(attach(server, client, { killSessions: [], lsid: { id: new UUID() }, $db: 'admin' })).toBeUndefined();
    expect(attach(server, client, { killAllSessions: [], lsid: { id: new UUID() }, $db: 'admin' })).toBeUndefined();
    expect(server.services.sessions.size).toBe(0);
    expectMongoError(
      () => attach(server, client, { killSessions: [], lsid: { id: 'x' }, $db: 'admin' }),
      14,
      `BSON field '${P}.id' is the wrong type 'string', expected type 'binData'`,
    );
  });

  test('under --auth with nobody logged in, a no-auth command ignores its lsid (§3.1 step 5)', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    expect(attach(server, client, { hello: 1, lsid: { id: new UUID() }, $db: 'admin' })).toBeUndefined();
    expect(attach(server, client, { saslStart: 1, lsid: { id: new UUID() }, $db: 'admin' })).toBeUndefined();
    expect(server.services.sessions.size).toBe(0);
    // A command that needs a login cannot have a session without one.
    expectMongoError(
      () => attach(server, client, { find: 'c', lsid: { id: new UUID() }, $db: 'test' }),
      13,
      'Logical sessions require authentication',
    );
  });

  test('under --auth the logged-in user owns the session: uid SHA-256("alice@admin")', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'alice', 'admin');
    const record = attach(server, client, { find: 'c', lsid: { id: new UUID() }, $db: 'test' });
    expect(record!.uid.equals(createHash('sha256').update('alice@admin').digest())).toBe(true);
    expect(record!.user).toBe('alice@admin');
    // Naming another owner's uid needs impersonate: 13.
    const other = new Binary(createHash('sha256').update('bob@admin').digest(), 0);
    server.services.auth.users.get('admin', 'alice').roles = [{ role: 'readWrite', db: 'test' }];
    expectMongoError(
      () => attach(server, client, { find: 'c', lsid: { id: new UUID(), uid: other }, $db: 'test' }),
      13,
      'Unauthorized to set user digest in LogicalSessionId',
    );
  });

  test('a full cache: TooManyLogicalSessions 261 from any command (maxSessions)', () => {
    const server = servers.make({ setParameter: { maxSessions: 1 } });
    const client = server.client();
    attach(server, client, { ping: 1, lsid: { id: new UUID() }, $db: 'admin' });
    const id = new UUID();
    expectMongoError(
      () => attach(server, client, { ping: 1, lsid: { id }, $db: 'admin' }),
      261,
      `Unable to add session ID ${id.toHexString(true)} - ${NO_AUTH_UID.toString('base64')} -  -  into the cache because the number of active sessions is too high`,
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('authorize', () => {
  test('a user with read on a may find on a, and is refused on b with mongod\'s generic 13', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'reader', 'admin', [{ role: 'read', db: 'a' }]);
    const find = specOf(server, 'find');
    checkPrivileges(server.services.auth, invocation(server, client, { find: 'c', $db: 'a' }), find);
    expectMongoError(
      () => checkPrivileges(server.services.auth, invocation(server, client, { find: 'c', $db: 'b' }), find),
      13,
      'not authorized on b to execute command { find: "c", $db: "b" }',
    );
    // read grants no insert, even on a.
    expectMongoError(
      () => checkPrivileges(server.services.auth, invocation(server, client, { insert: 'c', documents: [], $db: 'a' }), specOf(server, 'insert')),
      13,
      'not authorized on a to execute command { insert: "c", documents: [], $db: "a" }',
    );
  });

  test('roles are read from the user store at every check (a revoked role applies at once)', () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'reader', 'admin', [{ role: 'read', db: 'a' }]);
    const ctx = invocation(server, client, { find: 'c', $db: 'a' });
    checkPrivileges(server.services.auth, ctx, specOf(server, 'find'));
    server.services.auth.users.get('admin', 'reader').roles = [];
    expectMongoError(() => checkPrivileges(server.services.auth, ctx, specOf(server, 'find')), 13);
  });

  test('no privileges are checked without --auth, under --transitionToAuth, or for commands without any', () => {
    for (const options of [{}, { transitionToAuth: true }]) {
      const server = servers.make(options);
      const client = server.client();
      server.login(client, 'nobody', 'admin', []);
      checkPrivileges(server.services.auth, invocation(server, client, { find: 'c', $db: 'b' }), specOf(server, 'find'));
    }
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'nobody', 'admin', []);
    expect(specOf(server, 'startSession').privileges).toBeUndefined();
    checkPrivileges(server.services.auth, invocation(server, client, { startSession: 1, $db: 'admin' }), specOf(server, 'startSession'));
  });

  test('through dispatch: the refusal comes after the session is attached (§3.1, order of checks)', async () => {
    const server = servers.make({ auth: true });
    const client = server.client();
    server.login(client, 'reader', 'admin', [{ role: 'read', db: 'a' }]);
    const reply = await server.run(client, { find: 'c', lsid: { id: new UUID() }, $db: 'b' });
    expectError(reply, 13, 'Unauthorized', /^not authorized on b to execute command \{ find: "c", lsid: \{ id: UUID\("[0-9a-f-]{36}"\) \}, \$db: "b" \}$/);
    expect(server.services.sessions.size).toBe(1);
    expectOk(await server.run(client, { find: 'c', $db: 'a' }));
  });
});

// ---------------------------------------------------------------------------------------------

describe('run', () => {
  test('a handler\'s result passes through; without a session nothing can interrupt it', async () => {
    const server = servers.make();
    const client = server.client();
    const spec = defineCommand({ name: 'answer', help: 'test only', run: () => ({ answer: 42 }) });
    // A handler that answers at once is answered without a promise.
    expect(runCommand(spec, invocation(server, client, { answer: 1, $db: 'admin' }), undefined)).toEqual({ answer: 42 });
  });

  test('an operation whose session is killed while the handler awaits: Interrupted 11601 (kill_sessions_local.cpp)', async () => {
    const server = servers.make();
    const client = server.client();
    const record = server.services.sessions.vivify(newLsid(), undefined);
    const operation = new SessionOperation(client.closed);
    server.services.sessions.attach(record, operation);
    const gated = gatedCommand('gated');
    const ctx = invocation(server, client, { gated: 1, $db: 'admin' }, record, operation);
    const running = runCommand(gated.spec, ctx, operation);
    // The handler's signal is the operation's, live while it runs.
    expect(gated.seenSignal()?.aborted).toBe(false);
    expect(server.services.sessions.kill(() => true)).toBe(0); // no cursor closed, one operation interrupted
    expect(gated.seenSignal()?.aborted).toBe(true);
    gated.release();
    const err = await running.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MongoError);
    expect(err).toMatchObject({ code: 11601, codeName: 'Interrupted', message: 'operation was interrupted' });
  });

  test('a kill that matches another session leaves the operation alone', async () => {
    const server = servers.make();
    const client = server.client();
    const lsid = newLsid();
    const record = server.services.sessions.vivify(lsid, undefined);
    const operation = new SessionOperation(client.closed);
    server.services.sessions.attach(record, operation);
    const gated = gatedCommand('gated');
    const running = runCommand(gated.spec, invocation(server, client, { gated: 1, $db: 'admin' }, record, operation), operation);
    server.services.sessions.kill((other) => !other.id.equals(lsid.id));
    gated.release();
    await expect(running).resolves.toEqual({ finished: true });
    expect(operation.killed).toBe(false);
  });

  test('the connection closing aborts the signal of an operation in a session', () => {
    const server = servers.make();
    const client = server.client();
    const operation = new SessionOperation(client.closed);
    const signal = operation.signal;
    client.markClosed();
    expect(signal.aborted).toBe(true);
    // Closing is not a session kill: the result would still stand.
    expect(operation.killed).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('reply', () => {
  test('okReply adds ok: 1.0 (a Double) unless the handler set ok', () => {
    const reply = okReply({ a: 1 });
    expect(Object.keys(reply)).toEqual(['a', 'ok']);
    expect(reply.ok).toBeInstanceOf(Double);
    expect(Number(reply.ok)).toBe(1);
    const own = { ok: 0, note: 'mine' };
    expect(okReply(own)).toBe(own);
  });

  test('a handler that answers nothing gets the one frozen {ok: 1.0}, whose BSON is made once and is what encoding it gives', () => {
    expect(okReply({})).toBe(OK_REPLY);
    expect(Object.isFrozen(OK_REPLY)).toBe(true);
    expect(OK_REPLY_BSON.equals(encodeDocument({ ok: new Double(1) }))).toBe(true);
    // Anything added after it makes a new document (the shared one cannot change).
    expect(() => Object.assign(OK_REPLY, { extra: 1 })).toThrow(TypeError);
    expect(okReply({ a: 1 })).not.toBe(OK_REPLY);
  });

  test('a reply made with its BSON (ok: 1, startSession\'s) is sent as those bytes, which are what encoding it gives; others are encoded', async () => {
    expect(replyBody(OK_REPLY)).toBe(OK_REPLY_BSON);
    for (const timeout of [30, 7]) {
      const server = servers.make({ setParameter: { localLogicalSessionTimeoutMinutes: timeout } });
      const reply = await server.run(server.client(), { startSession: 1, $db: 'admin' });
      expect(reply.timeoutMinutes).toEqual(new Int32(timeout));
      const body = replyBody(reply);
      expect(Buffer.isBuffer(body)).toBe(true);
      expect((body as Buffer).equals(encodeDocument(reply))).toBe(true);
      expect(Object.keys(reply)).toEqual(['id', 'timeoutMinutes', 'ok']);
      // A copy with a field added is a new reply, encoded as it is, whether made by withFields or by spread.
      const copied = withFields(reply, { note: 1 });
      expect(replyBody(copied)).toBe(copied);
      const spread = { ...reply, note: 1 };
      expect(replyBody(spread)).toBe(spread);
      expect(encodeDocument(spread).equals(encodeDocument({ id: reply.id, timeoutMinutes: reply.timeoutMinutes, ok: reply.ok, note: 1 }))).toBe(true);
    }
    const server = servers.make();
    const hello = await server.run(server.client(), { hello: 1, $db: 'admin' });
    expect(replyBody(hello)).toBe(hello);
  });

  test('failureReply of a MongoError is mongod\'s error document, extra fields last', () => {
    const server = servers.make();
    const request = server.request({ ping: 1, $db: 'admin' });
    const reply = failureReply(new MongoError(11000, 'dup', { keyPattern: { _id: 1 } }), server.services.log, 7, request);
    expectError(reply, 11000, 'DuplicateKey', 'dup', { keyPattern: { _id: 1 } });
    expectError(failureReply(new MongoError(40415, 'x'), server.services.log, 7, request), 40415, 'Location40415', 'x');
  });

  test('failureReply of anything else is InternalError 1, logged as mongod logs an assertion (21966)', () => {
    const server = servers.make();
    const request = server.request({ ping: 1, $db: 'admin' });
    const reply = failureReply(new TypeError('boom'), server.services.log, 7, request);
    expectError(reply, 1, 'InternalError', 'boom');
    const entry = logEntries(server).find((e) => e.id === 21966);
    expect(entry).toMatchObject({ s: 'E', c: 'COMMAND', ctx: 'conn7', msg: 'Assertion while executing command', attr: { command: 'ping', db: 'admin' } });
    expect(entry!.attr.error).toContain('TypeError: boom');
    expectError(failureReply('just a string', server.services.log, 7, request), 1, 'InternalError', 'just a string');
  });
});

// ---------------------------------------------------------------------------------------------

describe('defineCommand', () => {
  test("fills in mongod's trait defaults", () => {
    const run = () => ({});
    const spec = defineCommand({ name: 'x', run, help: 'h' });
    expect(spec).toEqual({
      name: 'x',
      aliases: [],
      run,
      adminOnly: false,
      requiresAuth: true,
      testOnly: false,
      attachesSession: true,
      allowedInTransaction: false,
      retryableWrite: false,
      apiVersion1: false,
      strict: false,
      fields: [],
      supportsWriteConcern: false,
      neverSlow: false,
      opcounter: 'command',
      privileges: undefined,
      localhostException: false,
      opQuery: false,
      explain: undefined,
      help: 'h',
    });
  });

  test('given traits win over the defaults', () => {
    const spec = defineCommand({ name: 'y', run: () => ({}), help: 'h', requiresAuth: false, attachesSession: false, opcounter: 'query', aliases: ['Y'] });
    expect(spec).toMatchObject({ requiresAuth: false, attachesSession: false, opcounter: 'query', aliases: ['Y'], adminOnly: false });
  });
});

// ---------------------------------------------------------------------------------------------

describe('dispatch', () => {
  test('under --auth the login check comes before the session fields are parsed', async () => {
    const server = servers.make({ auth: true });
    const reply = await server.run(server.client(), { find: 'c', lsid: 'garbage', $db: 'test' });
    expectError(reply, 13, 'Unauthorized', 'Command find requires authentication');
  });

  test('a command in a session is one of its resources while it runs, and only then', async () => {
    const server = servers.make();
    const gated = gatedCommand('gated');
    const services = withCommands(server.services, gated.spec);
    const client = server.client();
    const id = new UUID();
    const pending = dispatch(services, client, server.request({ gated: 1, lsid: { id }, $db: 'admin' }), client.closed);
    const record = [...server.services.sessions.localSessions()][0]!;
    expect([...(record.resources ?? [])].map((r) => r.kind)).toEqual(['operation']);
    gated.release();
    expectOk((await pending).reply);
    expect(record.resources?.size ?? 0).toBe(0);
  });

  test('killSessions from another client interrupts a command running in that session: 11601', async () => {
    const server = servers.make();
    const gated = gatedCommand('gated');
    const services = withCommands(server.services, gated.spec);
    const client = server.client();
    const id = new UUID();
    const pending = dispatch(services, client, server.request({ gated: 1, lsid: { id }, $db: 'admin' }), client.closed);
    expectOk(await server.run(server.client(), { killSessions: [{ id }], $db: 'admin' }));
    gated.release();
    const { reply } = await pending;
    expectError(reply, 11601, 'Interrupted', 'operation was interrupted');
    // The killed session stays usable (kill_sessions_local.cpp leaves it in the cache).
    expectOk(await server.run(client, { ping: 1, lsid: { id }, $db: 'admin' }));
  });

  test('a handler that throws a non-MongoError answers InternalError and logs 21966', async () => {
    const server = servers.make();
    const broken = defineCommand({
      name: 'broken',
      help: 'test only',
      run: () => {
        throw new RangeError('out of range');
      },
    });
    const client = server.client();
    const { reply } = await dispatch(withCommands(server.services, broken), client, server.request({ broken: 1, $db: 'admin' }), client.closed);
    expectError(reply, 1, 'InternalError', 'out of range');
    expect(logEntries(server).some((e) => e.id === 21966 && e.ctx === `conn${client.id}`)).toBe(true);
  });

  test('a command slower than slowms is logged (51803); neverSlow commands are not', async () => {
    const server = servers.make({ slowms: 100 });
    const slow = defineCommand({ name: 'slow', help: 'test only', run: () => (server.clock.advance(250), {}) });
    const quiet = defineCommand({ name: 'quietSlow', help: 'test only', neverSlow: true, run: () => (server.clock.advance(250), {}) });
    const services = withCommands(server.services, slow, quiet);
    const client = server.client();
    await dispatch(services, client, server.request({ slow: 1, $db: 'admin' }), client.closed);
    await dispatch(services, client, server.request({ quietSlow: 1, $db: 'admin' }), client.closed);
    const slowLines = logEntries(server).filter((e) => e.id === 51803);
    expect(slowLines).toHaveLength(1);
    expect(slowLines[0]).toMatchObject({ msg: 'Slow query', attr: { type: 'command', ns: 'admin.$cmd', durationMillis: 250, command: { slow: 1, $db: 'admin' } } });
  });

  test('a handler that answers at once is answered at once (no promise); one that waits, with a promise; the end stage runs once either way', async () => {
    const server = servers.make();
    const gated = gatedCommand('gated');
    const services = withCommands(server.services, gated.spec);
    const client = server.client();
    const { opcounters } = server.services.counters;
    const now = dispatch(services, client, server.request({ ping: 1, $db: 'admin' }), client.closed);
    expect(now).not.toBeInstanceOf(Promise);
    expect((now as { reply: Document }).reply).toBe(OK_REPLY);
    expect(opcounters.command).toBe(1);
    expect(client.current).toBeUndefined();
    const failedNow = dispatch(services, client, server.request({ ping: 'x', nosuchfield: 1, $db: 'admin' }), client.closed);
    expect(failedNow).not.toBeInstanceOf(Promise);
    expectError((failedNow as { reply: Document }).reply, 40415, 'Location40415');
    // Refused while resolving (an unknown field): not counted, as mongod counts after parsing.
    expect(opcounters.command).toBe(1);
    const later = dispatch(services, client, server.request({ gated: 1, $db: 'admin' }), client.closed);
    expect(later).toBeInstanceOf(Promise);
    // Until the handler answers, the command is current and not yet counted.
    expect(client.current?.commandName).toBe('gated');
    expect(opcounters.command).toBe(1);
    gated.release();
    expectOk((await later).reply);
    expect(client.current).toBeUndefined();
    expect(opcounters.command).toBe(2);
  });

  test('each command bumps its own opcounter: ping a command, find a query', async () => {
    const server = servers.make();
    const client = server.client();
    const { opcounters } = server.services.counters;
    await server.run(client, { ping: 1, $db: 'admin' });
    await server.run(client, { find: 'c', $db: 'test' });
    await server.run(client, { find: 'c', $db: 'test' });
    expect(opcounters).toMatchObject({ command: 1, query: 2, getmore: 0 });
  });

  // mongod counts a command in ExecCommandDatabase::_initiateCommand, after the lookup (an
  // unknown command only bumps metrics.commands.<UNKNOWN>).
  test('a command that is not found is not counted', async () => {
    const server = servers.make();
    await server.run(server.client(), { nosuch: 1, $db: 'admin' });
    expect(server.services.counters.opcounters.command).toBe(0);
  });

  test('an awaitable hello with exhaustAllowed answers and hands back the next request to stream', async () => {
    const server = servers.make();
    const client = server.client();
    const first = await server.run(client, { hello: 1, $db: 'admin' });
    const topologyVersion = first.topologyVersion as Document;
    expect(topologyVersion.processId).toBeInstanceOf(ObjectId);
    let settled = false;
    const pending = server.dispatch(client, { hello: 1, topologyVersion, maxAwaitTimeMS: Long.fromNumber(10_000), $db: 'admin' }, { exhaustAllowed: true });
    void pending.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    // It waits for maxAwaitTimeMS of the server's clock (or a topology change).
    expect(settled).toBe(false);
    server.clock.advance(10_000);
    const { reply, exhaustNext } = await pending;
    expectOk(reply);
    expect(plain(exhaustNext!)).toEqual({ hello: 1, topologyVersion: plain({ topologyVersion }).topologyVersion, maxAwaitTimeMS: 10_000, $db: 'admin' });
  });

  test('shutting down refuses every command with 91', async () => {
    const server = servers.make();
    server.services.process.shuttingDown = true;
    expectError(await server.run(server.client(), { ping: 1, $db: 'admin' }), 91, 'ShutdownInProgress', 'The server is in quiesce mode and will shut down');
  });
});
