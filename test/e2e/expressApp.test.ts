/**
 * An Express 5 + mongoose REST app as a new user writes one, run unchanged against pocketmongo
 * (started through the embedded API), exercised over HTTP with fetch.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import mongoose from 'mongoose';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { PocketMongo } from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// The app (what would live in src/app.ts of the user's project).

const User = mongoose.model(
  'User',
  new mongoose.Schema(
    {
      email: { type: String, required: true, unique: true, lowercase: true, trim: true, match: /^[^@\s]+@[^@\s]+$/ },
      name: { type: String, required: true, trim: true },
      age: { type: Number, min: 0 },
    },
    { timestamps: true, versionKey: false },
  ),
);

const SORTABLE = new Set(['name', 'age', 'email', 'createdAt']);

function createApp(): express.Express {
  const app = express();
  app.use(express.json());

  app.post('/users', async (req, res) => {
    const user = await User.create(req.body);
    res.status(201).location(`/users/${user.id}`).json(user);
  });

  app.get('/users', async (req, res) => {
    const sort = typeof req.query.sort === 'string' ? req.query.sort : 'createdAt';
    if (!SORTABLE.has(sort.replace(/^-/, ''))) {
      res.status(400).json({ error: `cannot sort by ${sort}` });
      return;
    }
    const limit = Math.min(Number(req.query.limit ?? 20), 100);
    const skip = Number(req.query.skip ?? 0);
    const filter = typeof req.query.minAge === 'string' ? { age: { $gte: Number(req.query.minAge) } } : {};
    const [items, total] = await Promise.all([
      User.find(filter).sort(sort).skip(skip).limit(limit),
      User.countDocuments(filter),
    ]);
    res.json({ items, total });
  });

  app.get('/users/:id', async (req, res) => {
    const user = await User.findById(req.params.id);
    if (user === null) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    res.json(user);
  });

  app.patch('/users/:id', async (req, res) => {
    const user = await User.findByIdAndUpdate(req.params.id, req.body, { returnDocument: 'after', runValidators: true });
    if (user === null) {
      res.status(404).json({ error: 'not found' });
      return;
    }
    res.json(user);
  });

  app.delete('/users/:id', async (req, res) => {
    const user = await User.findByIdAndDelete(req.params.id);
    res.status(user === null ? 404 : 204).end();
  });

  // Express 5 forwards rejected promises from handlers here.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof mongoose.mongo.MongoServerError && err.code === 11000) {
      res.status(409).json({ error: 'duplicate', fields: Object.keys(err.keyValue ?? {}) });
    } else if (err instanceof mongoose.Error.ValidationError) {
      res.status(400).json({ error: 'invalid', fields: Object.keys(err.errors).sort() });
    } else if (err instanceof mongoose.Error.CastError) {
      res.status(400).json({ error: `bad ${err.path}` });
    } else {
      res.status(500).json({ error: String(err) });
    }
  });
  return app;
}

// ---------------------------------------------------------------------------------------------
// The tests.

let mongo: PocketMongo;
let http: Server;
let base: string;

beforeAll(async () => {
  mongo = await PocketMongo.start({ port: 0 });
  await mongoose.connect(`${mongo.uri}shop`);
  await User.init();
  http = createApp().listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => http.once('listening', resolve));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await User.deleteMany({});
});

afterAll(async () => {
  await new Promise((resolve) => http.close(resolve));
  await mongoose.disconnect();
  await mongo.stop();
});

interface UserBody {
  _id: string;
  email: string;
  name: string;
  age?: number;
  createdAt: string;
  updatedAt: string;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
}

test('POST /users creates, GET /users/:id reads it back', async () => {
  const created = await call('POST', '/users', { email: ' Ann@Example.COM ', name: 'Ann', age: 31 });
  expect(created.status).toBe(201);
  const ann = created.body as UserBody;
  expect(ann).toMatchObject({ email: 'ann@example.com', name: 'Ann', age: 31 });
  expect(ann._id).toMatch(/^[0-9a-f]{24}$/);
  expect(created.headers.get('location')).toBe(`/users/${ann._id}`);
  expect(Date.parse(ann.createdAt)).not.toBeNaN();
  expect(ann.updatedAt).toBe(ann.createdAt);

  const read = await call('GET', `/users/${ann._id}`);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(ann);
});

test('a duplicate email is 409, mapped from E11000 (insert and update alike)', async () => {
  expect((await call('POST', '/users', { email: 'ann@x.io', name: 'Ann' })).status).toBe(201);
  const dup = await call('POST', '/users', { email: 'ANN@x.io', name: 'Ann again' });
  expect(dup).toMatchObject({ status: 409, body: { error: 'duplicate', fields: ['email'] } });

  const bob = (await call('POST', '/users', { email: 'bob@x.io', name: 'Bob' })).body as UserBody;
  const clash = await call('PATCH', `/users/${bob._id}`, { email: 'ann@x.io' });
  expect(clash).toMatchObject({ status: 409, body: { error: 'duplicate', fields: ['email'] } });
  expect((await call('GET', `/users/${bob._id}`)).body.email).toBe('bob@x.io');
  expect((await call('GET', '/users')).body.total).toBe(2);
});

test('validation and bad ids are 400, unknown ids 404', async () => {
  const invalid = await call('POST', '/users', { email: 'not-an-email', age: -3 });
  expect(invalid).toMatchObject({ status: 400, body: { error: 'invalid', fields: ['age', 'email', 'name'] } });
  expect(await call('GET', '/users/nope')).toMatchObject({ status: 400, body: { error: 'bad _id' } });
  const missing = new mongoose.Types.ObjectId().toHexString();
  expect(await call('GET', `/users/${missing}`)).toMatchObject({ status: 404, body: { error: 'not found' } });
  expect(await call('PATCH', `/users/${missing}`, { name: 'X' })).toMatchObject({ status: 404 });
  expect((await call('DELETE', `/users/${missing}`)).status).toBe(404);
  expect(await call('GET', '/users?sort=password')).toMatchObject({ status: 400 });
});

test('GET /users?sort=...&limit=...&skip=... pages in order', async () => {
  for (const [name, age] of [
    ['Cy', 40],
    ['Ann', 31],
    ['Dee', 17],
    ['Bob', 25],
    ['Eve', 52],
  ] as const) {
    expect((await call('POST', '/users', { email: `${name.toLowerCase()}@x.io`, name, age })).status).toBe(201);
  }
  const byName = await call('GET', '/users?sort=name');
  expect(byName.status).toBe(200);
  expect(byName.body.total).toBe(5);
  expect((byName.body.items as UserBody[]).map((u) => u.name)).toEqual(['Ann', 'Bob', 'Cy', 'Dee', 'Eve']);

  const oldest = await call('GET', '/users?sort=-age&limit=2');
  expect((oldest.body.items as UserBody[]).map((u) => [u.name, u.age])).toEqual([
    ['Eve', 52],
    ['Cy', 40],
  ]);
  const page2 = await call('GET', '/users?sort=age&skip=2&limit=2&minAge=18');
  expect(page2.body.total).toBe(4);
  expect((page2.body.items as UserBody[]).map((u) => u.name)).toEqual(['Cy', 'Eve']);
  const byCreation = await call('GET', '/users');
  expect((byCreation.body.items as UserBody[]).map((u) => u.name)).toEqual(['Cy', 'Ann', 'Dee', 'Bob', 'Eve']);
});

test('PATCH updates with validators and bumps updatedAt; DELETE removes', async () => {
  const ann = (await call('POST', '/users', { email: 'ann@x.io', name: 'Ann', age: 31 })).body as UserBody;
  const patched = await call('PATCH', `/users/${ann._id}`, { name: '  Annie ', age: 32 });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ _id: ann._id, email: 'ann@x.io', name: 'Annie', age: 32, createdAt: ann.createdAt });
  expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(ann.updatedAt));

  const bad = await call('PATCH', `/users/${ann._id}`, { age: -1 });
  expect(bad).toMatchObject({ status: 400, body: { error: 'invalid', fields: ['age'] } });
  expect((await call('GET', `/users/${ann._id}`)).body.age).toBe(32);

  const deleted = await call('DELETE', `/users/${ann._id}`);
  expect(deleted.status).toBe(204);
  expect(deleted.body).toBeUndefined();
  expect((await call('GET', `/users/${ann._id}`)).status).toBe(404);
  expect((await call('GET', '/users')).body).toEqual({ items: [], total: 0 });
});
