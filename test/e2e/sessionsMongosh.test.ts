/**
 * End-to-end: logical sessions through mongosh 2 (client-handshake.md §4f, sessions-semantics.md §2).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { runMongosh, startServer } from '../helpers/server.js';

let server: PocketMongo;
beforeAll(async () => {
  server = await startServer({ setParameter: { enableTestCommands: '1' } });
});
afterAll(async () => {
  await server.stop();
});

const UUID_RE = "UUID\\('[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'\\)";

test('db.runCommand({startSession: 1}) prints {id: {id: UUID}, timeoutMinutes: 30, ok: 1}', async () => {
  const result = await runMongosh(server.uri, 'db.runCommand({startSession: 1})');
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(new RegExp(`^\\{\\n  id: \\{ id: ${UUID_RE} \\},\\n  timeoutMinutes: 30,\\n  ok: 1\\n\\}\\n$`));
});

test('a shell session is listed by $listLocalSessions once used', async () => {
  // mongosh 2 has no Session.getSessionId() (a legacy-shell API): the id is `s.id.id`, a
  // Binary whose plain toString() is not the UUID text, so ids are compared as hex.
  const code = [
    'const s = db.getMongo().startSession();',
    "s.getDatabase('admin').runCommand({ping: 1});",
    "printjson(db.getSiblingDB('admin').aggregate([{$listLocalSessions: {}}]).toArray()",
    "  .map(d => d._id.id.toString('hex')).includes(s.id.id.toString('hex')))",
  ].join('\n');
  const result = await runMongosh(server.uri, code);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('true');
});

test('a shell session that was never used is not on the server (startSession() sends nothing)', async () => {
  const code = [
    'const s = db.getMongo().startSession();',
    "printjson(db.getSiblingDB('admin').aggregate([{$listLocalSessions: {allUsers: true}}]).toArray()",
    "  .map(d => d._id.id.toString('hex')).includes(s.id.id.toString('hex')))",
  ].join('\n');
  const result = await runMongosh(server.uri, code);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe('false');
});

test('after refreshLogicalSessionCacheNow the session is in config.system.sessions ($listSessions)', async () => {
  const code = [
    'const s = db.getMongo().startSession();',
    "s.getDatabase('test').runCommand({ping: 1});",
    "db.getSiblingDB('admin').runCommand({refreshLogicalSessionCacheNow: 1});",
    "const ids = db.getSiblingDB('config').system.sessions.aggregate([{$listSessions: {}}]).toArray().map(d => d._id.id.toString('hex'));",
    "printjson(ids.includes(s.id.id.toString('hex')));",
    "printjson(db.getSiblingDB('config').system.sessions.find({}).toArray().every(d => Object.keys(d).join() === '_id,lastUse'));",
  ].join('\n');
  const result = await runMongosh(server.uri, code);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim().split('\n')).toEqual(['true', 'true']);
});

test('a session command error is thrown as MongoServerError with mongod\'s code and message', async () => {
  const code = [
    "try { db.adminCommand({refreshSessions: 'x'}); print('no error'); }",
    'catch (e) { print(e.name, e.code, e.codeName, e.message); }',
  ].join('\n');
  const result = await runMongosh(server.uri, code);
  expect(result.stderr).toBe('');
  expect(result.stdout.trim()).toBe(
    "MongoServerError 14 TypeMismatch BSON field 'refreshSessions.refreshSessions' is the wrong type 'string', expected type 'array'",
  );
});
