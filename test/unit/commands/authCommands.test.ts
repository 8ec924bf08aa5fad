/**
 * Authentication through dispatch, in process: a real SCRAM conversation (saslStart and
 * saslContinue, the client side from test/unit/auth/scramClient.ts), what a login changes
 * (connectionStatus, session ownership, cursor ownership), logout, and --transitionToAuth.
 * Expected behaviour: sasl_commands.cpp, sessions-semantics.md §1.1, §3.3, §3.4.
 */
import { createHash } from 'node:crypto';
import { Binary, Int32, Long, UUID, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import {
  expectError,
  expectOk,
  listLocalSessions,
  lsidText,
  serverPool,
  type InProcessServer,
} from '../../helpers/inProcess.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

const digest = (name: string): Buffer => createHash('sha256').update(name).digest();

function logEntries(server: InProcessServer): Document[] {
  return server.services.log.global.all().map((line) => JSON.parse(line) as Document);
}

async function connectionStatus(server: InProcessServer, client: Client): Promise<Document> {
  return expectOk(await server.run(client, { connectionStatus: 1, $db: 'admin' })).authInfo as Document;
}

/** An --auth server whose first user, alice (root), was created over the localhost exception. */
async function authServer(): Promise<InProcessServer> {
  const server = servers.make({ auth: true });
  expectOk(await server.run(server.client(), { createUser: 'alice', pwd: 'secret', roles: ['root'], $db: 'admin' }));
  return server;
}

/** Three documents in test.c (as alice), and a find of batch size 1 left open: its cursor id. */
async function aliceCursor(server: InProcessServer, alice: Client, id?: UUID): Promise<Long> {
  expectOk(await server.run(alice, { insert: 'c', documents: [{ _id: 1 }, { _id: 2 }, { _id: 3 }], $db: 'test' }));
  const reply = expectOk(await server.run(alice, { find: 'c', batchSize: 1, ...(id === undefined ? {} : { lsid: { id } }), $db: 'test' }));
  return (reply.cursor as Document).id as Long;
}

// ---------------------------------------------------------------------------------------------

describe('SCRAM login (sasl_commands.cpp)', () => {
  test('a SCRAM-SHA-256 conversation logs the connection in; connectionStatus shows the user', async () => {
    const server = await authServer();
    const client = server.client();
    expect(await connectionStatus(server, client)).toEqual({ authenticatedUsers: [], authenticatedUserRoles: [] });
    const done = expectOk(await server.scramLogin(client, 'alice', 'secret', 'admin'));
    expect(done.done).toBe(true);
    expect(done.conversationId).toEqual(new Int32(1));
    expect(done.payload).toBeInstanceOf(Binary);
    expect(client.principal.user).toEqual({ user: 'alice', db: 'admin' });
    expect(await connectionStatus(server, client)).toEqual({
      authenticatedUsers: [{ user: 'alice', db: 'admin' }],
      authenticatedUserRoles: [{ role: 'root', db: 'admin' }],
    });
    // What needed a login now runs.
    expectOk(await server.run(client, { find: 'c', $db: 'test' }));
    const success = logEntries(server).find((e) => e.id === 5286306);
    expect(success).toMatchObject({
      msg: 'Authentication succeeded',
      attr: { mechanism: 'SCRAM-SHA-256', speculative: false, principalName: 'alice', authenticationDatabase: 'admin', remote: client.remote },
    });
  });

  test('SCRAM-SHA-1 works too (the md5 digest password)', async () => {
    const server = await authServer();
    const client = server.client();
    expect(expectOk(await server.scramLogin(client, 'alice', 'secret', 'admin', 'SCRAM-SHA-1')).done).toBe(true);
    expect(client.principal.userName).toBe('alice@admin');
  });

  test('a wrong password: AuthenticationFailed 18, nobody logged in, failure logged (20249)', async () => {
    const server = await authServer();
    const client = server.client();
    expectError(await server.scramLogin(client, 'alice', 'wrong', 'admin'), 18, 'AuthenticationFailed', 'Authentication failed.');
    expect(client.principal.user).toBeUndefined();
    expect(client.principal.sasl).toBeUndefined();
    expect(await connectionStatus(server, client)).toEqual({ authenticatedUsers: [], authenticatedUserRoles: [] });
    expect(logEntries(server).some((e) => e.id === 20249 && e.attr.principalName === 'alice')).toBe(true);
    expectError(await server.run(client, { find: 'c', $db: 'test' }), 13, 'Unauthorized', 'Command find requires authentication');
  });

  test('an unknown user, or the right user on the wrong database: 18 as well (mongod masks the reason)', async () => {
    const server = await authServer();
    expectError(await server.scramLogin(server.client(), 'mallory', 'secret', 'admin'), 18, 'AuthenticationFailed', 'Authentication failed.');
    expectError(await server.scramLogin(server.client(), 'alice', 'secret', 'test'), 18, 'AuthenticationFailed', 'Authentication failed.');
  });

  test('saslContinue without a conversation: ProtocolError 17', async () => {
    const server = await authServer();
    expectError(
      await server.run(server.client(), { saslContinue: 1, conversationId: 1, payload: new Binary(Buffer.alloc(0)), $db: 'admin' }),
      17,
      'ProtocolError',
      'No SASL session state found',
    );
  });

  test('one user per connection: logging in as another user is 5626701 (mongod 7.0)', async () => {
    const server = await authServer();
    server.createUser('bob', 'admin', [{ role: 'read', db: 'test' }], 'bobpw');
    const client = server.client();
    expectOk(await server.scramLogin(client, 'alice', 'secret', 'admin'));
    expectError(
      await server.scramLogin(client, 'bob', 'bobpw', 'admin'),
      5626701,
      'Location5626701',
      'Each client connection may only be authenticated once. Previously authenticated as: alice@admin',
    );
    expect(client.principal.userName).toBe('alice@admin');
  });
});

// ---------------------------------------------------------------------------------------------

describe('sessions and cursors under --auth (§1.1, §3.3, §3.4)', () => {
  test('a session is owned by SHA-256("user@db") and listed with its user', async () => {
    const server = await authServer();
    const alice = server.client();
    expectOk(await server.scramLogin(alice, 'alice', 'secret', 'admin'));
    const started = expectOk(await server.run(alice, { startSession: 1, $db: 'admin' }));
    const listed = await listLocalSessions(server, alice, {});
    expect(listed).toHaveLength(1);
    const { _id: id, user } = listed[0]!;
    expect(Buffer.from((id.id as Binary).value()).equals(Buffer.from((started.id.id as Binary).value()))).toBe(true);
    expect(Buffer.from((id.uid as Binary).value()).equals(digest('alice@admin'))).toBe(true);
    expect(user).toBe('alice@admin');

    // Another user's "my sessions" does not show it.
    server.createUser('bob', 'admin', [{ role: 'read', db: 'test' }]);
    const bob = server.client();
    server.login(bob, 'bob', 'admin');
    expect(await listLocalSessions(server, bob, {})).toEqual([]);
  });

  test('unauthenticated: startSession needs a login (13)', async () => {
    const server = await authServer();
    expectError(await server.run(server.client(), { startSession: 1, $db: 'admin' }), 13, 'Unauthorized', 'Command startSession requires authentication');
  });

  test("another user cannot continue a cursor opened without a session: 'not created by the authenticated user'", async () => {
    const server = await authServer();
    const alice = server.client();
    server.login(alice, 'alice', 'admin');
    const cursorId = await aliceCursor(server, alice);
    const bob = server.client();
    server.login(bob, 'bob', 'admin', [{ role: 'read', db: 'test' }]);
    expectError(
      await server.run(bob, { getMore: cursorId, collection: 'c', $db: 'test' }),
      13,
      'Unauthorized',
      `cursor id ${cursorId.toString()} was not created by the authenticated user`,
    );
    // Nor kill it (checkAuthForKillCursors): the generic refusal.
    expectError(
      await server.run(bob, { killCursors: 'c', cursors: [cursorId], $db: 'test' }),
      13,
      'Unauthorized',
      `not authorized on test to execute command { killCursors: "c", cursors: [ ${cursorId.toString()} ], $db: "test" }`,
    );
    expectOk(await server.run(alice, { getMore: cursorId, collection: 'c', $db: 'test' }));
  });

  test('a session cursor: the same lsid from another user is another session (checkCursorSessionPrivilege, 13)', async () => {
    const server = await authServer();
    const alice = server.client();
    server.login(alice, 'alice', 'admin');
    const id = new UUID();
    const cursorId = await aliceCursor(server, alice, id);
    const bob = server.client();
    server.login(bob, 'bob', 'admin', [{ role: 'read', db: 'test' }]);
    const theirs = lsidText(id, digest('alice@admin'));
    expectError(
      await server.run(bob, { getMore: cursorId, collection: 'c', lsid: { id }, $db: 'test' }),
      13,
      'Unauthorized',
      `Cursor session id (${theirs}) is not the same as the operation context's session id (${lsidText(id, digest('bob@admin'))})`,
    );
    // Under auth a missing lsid is "a different session" too (13, not 50737).
    expectError(
      await server.run(alice, { getMore: cursorId, collection: 'c', $db: 'test' }),
      13,
      'Unauthorized',
      `Cursor session id (${theirs}) is not the same as the operation context's session id (none)`,
    );
    expectOk(await server.run(alice, { getMore: cursorId, collection: 'c', lsid: { id }, $db: 'test' }));
  });

  test("killSessions [] kills only the caller's own sessions (patternsForLoggedInUser, FerretDB EmptySessions)", async () => {
    const server = await authServer();
    const alice = server.client();
    server.login(alice, 'alice', 'admin');
    const aliceId = new UUID();
    const aliceCursorId = await aliceCursor(server, alice, aliceId);
    const bob = server.client();
    server.login(bob, 'bob', 'admin', [{ role: 'read', db: 'test' }]);
    const bobId = new UUID();
    const bobCursor = expectOk(await server.run(bob, { find: 'c', batchSize: 1, lsid: { id: bobId }, $db: 'test' })).cursor.id as Long;
    expectOk(await server.run(bob, { killSessions: [], $db: 'admin' }));
    expect(server.services.cursors.get(bobCursor)).toBeUndefined();
    expect(server.services.cursors.get(aliceCursorId)).toBeDefined();
    // Naming alice's id without a uid means bob's own session of that id: nothing of alice's dies.
    expectOk(await server.run(bob, { killSessions: [{ id: aliceId }], $db: 'admin' }));
    expect(server.services.cursors.get(aliceCursorId)).toBeDefined();
    // Naming her uid needs killAnySession or impersonate.
    expectError(
      await server.run(bob, { killSessions: [{ id: aliceId, uid: new Binary(digest('alice@admin'), 0) }], $db: 'admin' }),
      13,
      'Unauthorized',
      'Unauthorized to set user digest in LogicalSessionId',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('logout', () => {
  test('logout on the login database forgets the user', async () => {
    const server = await authServer();
    const client = server.client();
    expectOk(await server.scramLogin(client, 'alice', 'secret', 'admin'));
    // On another database it leaves the login alone (mongod logs out per database).
    expectOk(await server.run(client, { logout: 1, $db: 'test' }));
    expect(client.principal.userName).toBe('alice@admin');
    expect(Object.keys(expectOk(await server.run(client, { logout: 1, $db: 'admin' })))).toEqual(['ok']);
    expect(client.principal.user).toBeUndefined();
    expect(await connectionStatus(server, client)).toEqual({ authenticatedUsers: [], authenticatedUserRoles: [] });
    expectError(await server.run(client, { find: 'c', $db: 'test' }), 13, 'Unauthorized', 'Command find requires authentication');
    // And the connection may log in again, as anyone.
    expectOk(await server.scramLogin(client, 'alice', 'secret', 'admin'));
  });
});

// ---------------------------------------------------------------------------------------------

describe('--transitionToAuth', () => {
  test('an unauthenticated client may start a session (no owner: the no-auth uid) and read', async () => {
    const server = servers.make({ transitionToAuth: true });
    const client = server.client();
    const started = expectOk(await server.run(client, { startSession: 1, $db: 'admin' }));
    expect(started.timeoutMinutes).toEqual(new Int32(30));
    const [listed] = await listLocalSessions(server, client, {});
    expect(Buffer.from((listed!._id.uid as Binary).value()).equals(digest(''))).toBe(true);
    expect(listed!.user).toBeUndefined();
    expectOk(await server.run(client, { find: 'c', $db: 'test' }));
  });

  test('a client that logs in owns its sessions, and no privilege is checked', async () => {
    const server = servers.make({ transitionToAuth: true });
    server.createUser('carol', 'admin', [{ role: 'read', db: 'other' }], 'cpw');
    const client = server.client();
    expectOk(await server.scramLogin(client, 'carol', 'cpw', 'admin'));
    expectOk(await server.run(client, { startSession: 1, $db: 'admin' }));
    const [listed] = await listLocalSessions(server, client, {});
    expect(Buffer.from((listed!._id.uid as Binary).value()).equals(digest('carol@admin'))).toBe(true);
    expect(listed!.user).toBe('carol@admin');
    expectOk(await server.run(client, { insert: 'c', documents: [{ _id: 1 }], $db: 'test' }));
  });
});
