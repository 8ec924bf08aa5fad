import { Double, Int32, Long } from 'bson';
import { expect, test } from 'vitest';
import { runPipeline } from '../../../src/query/mingo.js';

test('reshaped pipeline documents keep the numeric types of the values they carry over', () => {
  const docs = [{ _id: new Int32(1), d: new Double(2), l: Long.fromNumber(3), n: { d: new Double(4) } }];
  const [out] = runPipeline([{ $project: { d: 1, n: 1, sum: { $add: ['$d', 1] } } }], docs);
  expect(out!._id).toBeInstanceOf(Int32);
  expect(out!.d).toBeInstanceOf(Double);
  expect((out!.n as { d: unknown }).d).toBeInstanceOf(Double);
  expect(out!.sum).toBe(3);
});
