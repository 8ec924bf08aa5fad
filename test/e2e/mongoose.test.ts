import mongoose from 'mongoose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PocketMongo } from '../../src/index.js';
import { startServer } from '../helpers/server.js';

let server: PocketMongo;

beforeAll(async () => {
  server = await startServer();
  await mongoose.connect(`${server.uri}app`);
});

afterAll(async () => {
  await mongoose.disconnect();
  await server.stop();
});

test('mongoose: a model with a unique index, save, find with populate, updateOne, deleteMany', async () => {
  const Author = mongoose.model('Author', new mongoose.Schema({ name: { type: String, unique: true } }));
  const Book = mongoose.model(
    'Book',
    new mongoose.Schema({ title: String, author: { type: mongoose.Schema.Types.ObjectId, ref: 'Author' }, pages: Number }),
  );
  await Author.init();
  await Book.init();
  const ann = await new Author({ name: 'Ann' }).save();
  const dup = await new Author({ name: 'Ann' }).save().catch((e: unknown) => e as { code?: number; message?: string });
  expect(dup).toMatchObject({
    code: 11000,
    message: 'E11000 duplicate key error collection: app.authors index: name_1 dup key: { name: "Ann" }',
  });
  await Book.create([
    { title: 'B1', author: ann._id, pages: 10 },
    { title: 'B2', author: ann._id, pages: 20 },
  ]);
  const books = await Book.find({ pages: { $gte: 10 } }).populate<{ author: { name: string } }>('author').sort({ pages: -1 }).lean();
  expect(books.map((b) => [b.title, b.author.name])).toEqual([
    ['B2', 'Ann'],
    ['B1', 'Ann'],
  ]);
  expect((await Book.updateOne({ title: 'B1' }, { $inc: { pages: 5 } })).modifiedCount).toBe(1);
  expect((await Book.findOne({ title: 'B1' }))?.pages).toBe(15);
  expect((await Book.deleteMany({})).deletedCount).toBe(2);
  expect(await Book.countDocuments()).toBe(0);
});
