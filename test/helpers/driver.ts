/**
 * The official driver against an in-process server, for end-to-end tests: the server and client
 * a test file shares (useDriver) or one test owns (openDriver), and the error assertions.
 */
import { MongoClient, MongoServerError, type Db, type Document, type MongoClientOptions } from 'mongodb';
import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import type { PocketMongo, ServerOptions } from '../../src/index.js';
import { startServer } from './server.js';

/** Documents with numeric `_id`s (the driver types `_id` as ObjectId by default). */
export type NumberedDoc = Document & { _id: number };

/** A running server, a driver client on it, the test database and admin. */
export interface Driver {
  readonly server: PocketMongo;
  /** A client without credentials (on a server with auth, use `login`). */
  readonly client: MongoClient;
  /** The database the tests work in. */
  readonly db: Db;
  readonly admin: Db;
  /** A client connected as `user` (authenticated against `authSource`), closed with the others. */
  login(user: string, pwd: string, authSource: string, options?: MongoClientOptions): Promise<MongoClient>;
}

interface Started {
  server: PocketMongo;
  client: MongoClient;
  db: Db;
}

function connect(server: PocketMongo, dbName: string): Started {
  const client = new MongoClient(server.uri);
  return { server, client, db: client.db(dbName) };
}

/** The Driver over `current()`; `own` takes each logged-in client to close it later. */
function driver(current: () => Started | undefined, own: (client: MongoClient) => void): Driver {
  const started = (): Started => {
    const value = current();
    if (value === undefined) throw new Error('the server is not started yet (use it inside tests or hooks)');
    return value;
  };
  return {
    get server() {
      return started().server;
    },
    get client() {
      return started().client;
    },
    get db() {
      return started().db;
    },
    get admin() {
      return started().client.db('admin');
    },
    async login(user, pwd, authSource, options) {
      const uri = `mongodb://${user}:${pwd}@127.0.0.1:${started().server.port}/${authSource}?authSource=${authSource}`;
      const client = new MongoClient(uri, options);
      own(client);
      await client.connect();
      return client;
    },
  };
}

/**
 * One server and client for the whole file (or describe block): started in beforeAll, closed in
 * afterAll with every client `login` opened. Read `server`, `client` and `db` inside tests and
 * hooks (a beforeAll registered after this call runs once the server is up).
 */
export function useDriver(dbName: string, options: ServerOptions = {}): Driver {
  let current: Started | undefined;
  const logins: MongoClient[] = [];
  beforeAll(async () => {
    current = connect(await startServer(options), dbName);
  });
  afterAll(async () => {
    for (const client of logins.splice(0)) await client.close();
    await current?.client.close();
    await current?.server.stop();
  });
  return driver(
    () => current,
    (client) => logins.push(client),
  );
}

/** A server and client of the current test's own, closed (clients first) when the test finishes. */
export async function openDriver(dbName: string, options: ServerOptions = {}): Promise<Driver> {
  const server = await startServer(options);
  onTestFinished(() => server.stop());
  const current = connect(server, dbName);
  onTestFinished(() => current.client.close());
  return driver(
    () => current,
    (client) => onTestFinished(() => client.close()),
  );
}

/** What a promise rejects with, or undefined when it resolves. */
export function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** The MongoServerError a promise rejects with (the assertion fails if it resolves or rejects otherwise). */
export async function serverError(promise: Promise<unknown>): Promise<MongoServerError> {
  const err = await promise.then(
    (value: unknown) => new Error(`expected a server error, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MongoServerError);
  return err as MongoServerError;
}

/** Asserts a promise rejects with a MongoServerError of this code (and codeName and errmsg when given). */
export async function expectServerError(
  promise: Promise<unknown>,
  code: number,
  codeName?: string,
  errmsg?: string | RegExp,
): Promise<MongoServerError> {
  const err = await serverError(promise);
  expect(err.code).toBe(code);
  if (codeName !== undefined) expect(err.codeName).toBe(codeName);
  if (typeof errmsg === 'string') expect(err.errmsg).toBe(errmsg);
  else if (errmsg !== undefined) expect(err.errmsg).toMatch(errmsg);
  return err;
}

/** mongod's error reply, exactly: `{ok: 0, errmsg, code, codeName}` (errmsg may be a matcher). */
export function errorDoc(code: number, codeName: string, errmsg: unknown): Document {
  return { ok: 0, errmsg, code, codeName };
}

/** Awaits a rejection and checks it is exactly mongod's error reply, field by field. */
export async function expectExactError(promise: Promise<unknown>, code: number, codeName: string, errmsg: unknown): Promise<MongoServerError> {
  const err = await serverError(promise);
  expect(err.errorResponse).toEqual(errorDoc(code, codeName, errmsg));
  expect(err.code).toBe(code);
  expect(err.codeName).toBe(codeName);
  return err;
}

/** expectExactError, and the reply's fields in mongod's order too. */
export async function expectErrorReply(
  promise: Promise<unknown>,
  code: number,
  codeName: string,
  errmsg: string | RegExp,
): Promise<MongoServerError> {
  const err = await expectExactError(promise, code, codeName, typeof errmsg === 'string' ? errmsg : expect.stringMatching(errmsg));
  expect(Object.keys(err.errorResponse)).toEqual(['ok', 'errmsg', 'code', 'codeName']);
  return err;
}
