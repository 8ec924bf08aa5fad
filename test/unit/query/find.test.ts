import type { Document } from 'bson';
import { expect, test } from 'vitest';
import { runPipeline } from '../../../src/query/mingo.js';
import { runFind } from '../../../src/query/find.js';

/** A source that counts how many documents were read from it. */
function counted(n: number): { docs: Iterable<Document>; read: () => number } {
  let read = 0;
  const docs = {
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) {
        read += 1;
        yield { _id: i };
      }
    },
  };
  return { docs, read: () => read };
}

test('without a sort, skip and limit stop reading the source once satisfied', () => {
  const source = counted(1000);
  expect(runFind({ filter: {}, skip: 2, limit: 3 }, source.docs).map((d) => d._id)).toEqual([2, 3, 4]);
  expect(source.read()).toBe(5);
  const first = counted(1000);
  expect(runFind({ filter: { _id: { $gte: 5 } }, limit: 1 }, first.docs).map((d) => d._id)).toEqual([5]);
  expect(first.read()).toBe(6);
});

test('skip alone, and no limit, read everything', () => {
  const source = counted(10);
  expect(runFind({ filter: {}, skip: 8 }, source.docs).map((d) => d._id)).toEqual([8, 9]);
  expect(runFind({ filter: { _id: { $lt: 3 } } }, counted(10).docs).map((d) => d._id)).toEqual([0, 1, 2]);
});

test('$comment at the top of a filter or of a clause is ignored, as mongod does', () => {
  const docs = [{ _id: 1, a: 1 }, { _id: 2, a: 2 }];
  expect(runFind({ filter: { a: 2, $comment: 'why' } }, docs).map((d) => d._id)).toEqual([2]);
  expect(runFind({ filter: { $or: [{ a: 1, $comment: 'x' }, { a: 3 }] } }, docs).map((d) => d._id)).toEqual([1]);
  expect(runPipeline([{ $match: { $comment: 'c', a: 1 } }], docs).map((d) => d._id)).toEqual([1]);
});

test('$text, geospatial operators and $where are refused clearly (115), not as unknown operators', () => {
  const docs = [{ _id: 1, a: 'x' }];
  const refusal = (filter: Document) => {
    try {
      runFind({ filter }, docs);
    } catch (err) {
      return err as { code: number; message: string };
    }
    return undefined;
  };
  expect(refusal({ $text: { $search: 'x' } })).toMatchObject({ code: 115, message: 'pocketmongo does not support $text queries yet' });
  expect(refusal({ loc: { $near: [0, 0] } })).toMatchObject({ code: 115, message: 'pocketmongo does not support geospatial queries ($near) yet' });
  expect(refusal({ $where: 'this.a == 1' })).toMatchObject({ code: 115, message: 'pocketmongo does not support server-side JavaScript ($where) yet' });
});
