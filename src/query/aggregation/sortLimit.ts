/**
 * $sort, $limit, $skip, $sample, $count and $sortByCount. Documents pass through as the input's
 * own objects; $limit stops reading its input once it has its documents.
 *
 * Sources (mongodb/mongo, src/mongo/db/pipeline/): document_source_sort.cpp and
 * ../query/sort_pattern.cpp (15973, 15974 "Illegal key in $sort specification: <elem>", 15975, 15976,
 * 17312; {$meta: ...} keys: computed sorts, left to mingo here), query/sort.ts for mongod's sort
 * order (the collation's for strings); document_source_limit.cpp / document_source_skip.cpp
 * (parseIntegerElementToNonNegativeLong: 5107201 / 5107200 "invalid argument to $limit stage: ...",
 * 15958 "the limit must be positive"); document_source_sample.cpp (distinct documents: a random
 * sort, no repeats); document_source_count.cpp (40156-40160; {$group: {_id: null, n: {$sum: 1}}}
 * then {$project: {_id: 0, n: 1}}: no document for no input, an int count that becomes a long);
 * document_source_sort_by_count.cpp (40147, 40148, 40149; $group by the expression with
 * count: {$sum: 1}, then $sort {count: -1}).
 */
import { LocationCodes } from '../../errors.js';
import { Int32, Long, type Document } from 'bson';
import { numberValue } from '../../bson/args.js';
import { elementText, objectKind, parseIntegerElement } from '../match/values.js';
import { notSupported } from '../queryErrors.js';
import { sortDocuments, sortFields } from '../sort.js';
import type { CompileContext, CompiledStage } from './context.js';
import { fail } from './errors.js';
import { compileGroup } from './group.js';
import { fieldPath, type Obj } from './values.js';

/** Parses a $sort spec as SortPattern does; throws 115 for a computed ({$meta}) sort. */
export function parseSortSpec(spec: unknown): NonNullable<ReturnType<typeof sortFields>> {
  if (objectKind(spec) !== 1) fail(LocationCodes.SortNotObject, 'the $sort key specification must be an object');
  const obj = spec as Obj;
  for (const [key, value] of Object.entries(obj)) {
    if (objectKind(value) === 1) {
      const keys = Object.keys(value as Obj);
      if (keys[0] !== '$meta') fail(LocationCodes.SortMetaOnly, '$meta is the only expression supported by $sort right now');
      throw notSupported('a $sort by $meta');
    }
    const n = numberValue(value);
    if (n === undefined) fail(LocationCodes.SortIllegalKey, `Illegal key in $sort specification: ${elementText(key, value)}`);
    if (n !== 1 && n !== -1) fail(LocationCodes.SortBadDirection, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    fieldPath(key);
  }
  const fields = sortFields(obj);
  if (fields === undefined || fields.length === 0) fail(LocationCodes.SortEmpty, '$sort stage must have at least one sort key');
  return fields;
}

export function compileSort(spec: unknown, cc: CompileContext): CompiledStage {
  const fields = parseSortSpec(spec);
  return {
    name: '$sort',
    fallback: false,
    run: (input) => sortDocuments([...input], fields, cc.collation),
  };
}

function nonNegativeLong(stage: '$limit' | '$skip', value: unknown, code: number): number {
  const n = parseIntegerElement(stage, value, 'nonNegativeLong');
  if (typeof n === 'string') fail(code, `invalid argument to ${stage} stage: ${n}`);
  return Number(n);
}

export function compileLimit(spec: unknown): CompiledStage {
  const limit = nonNegativeLong('$limit', spec, LocationCodes.LimitInvalid);
  if (limit === 0) fail(LocationCodes.LimitNotPositive, 'the limit must be positive');
  return {
    name: '$limit',
    fallback: false,
    *run(input) {
      let n = 0;
      for (const doc of input) {
        yield doc;
        if (++n >= limit) return;
      }
    },
  };
}

export function compileSkip(spec: unknown): CompiledStage {
  const skip = nonNegativeLong('$skip', spec, LocationCodes.SkipInvalid);
  return {
    name: '$skip',
    fallback: false,
    *run(input) {
      let n = 0;
      for (const doc of input) {
        if (n < skip) n += 1;
        else yield doc;
      }
    },
  };
}

/** $sample: `size` distinct documents in random order (the spec was checked: stageShapes). */
export function compileSample(spec: unknown): CompiledStage {
  const size = Math.trunc(numberValue((spec as Obj).size) ?? 0);
  return {
    name: '$sample',
    fallback: false,
    run(input) {
      const pool = [...input];
      const n = Math.min(Math.max(0, size), pool.length);
      for (let i = 0; i < n; i += 1) {
        const j = i + Math.floor(Math.random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, n);
    },
  };
}

export function compileCount(spec: unknown): CompiledStage {
  if (typeof spec !== 'string') fail(LocationCodes.CountNotString, 'the count field must be a non-empty string');
  if (spec.length === 0) fail(LocationCodes.CountEmpty, 'the count field must be a non-empty string');
  if (spec.startsWith('$')) fail(LocationCodes.CountDollar, 'the count field cannot be a $-prefixed path');
  if (spec.includes('\0')) fail(LocationCodes.CountNullByte, 'the count field cannot contain a null byte');
  if (spec.includes('.')) fail(LocationCodes.CountDot, "the count field cannot contain '.'");
  const name = spec;
  return {
    name: '$count',
    fallback: false,
    *run(input) {
      let n = 0;
      for (const _ of input) n += 1;
      if (n === 0) return;
      const out: Document = {};
      Object.defineProperty(out, name, { value: n <= 2147483647 ? new Int32(n) : Long.fromNumber(n), enumerable: true, writable: true, configurable: true });
      yield out;
    },
  };
}

export function compileSortByCount(spec: unknown, cc: CompileContext): CompiledStage {
  if (objectKind(spec) === 1) {
    const first = Object.keys(spec as Obj)[0];
    if (first === undefined || !first.startsWith('$')) {
      fail(LocationCodes.SortByCountObjectNotExpression, 'the sortByCount field must be defined as a $-prefixed path or an expression inside an object');
    }
  } else if (typeof spec === 'string') {
    if (!spec.startsWith('$')) fail(LocationCodes.SortByCountStringNotPath, 'the sortByCount field must be defined as a $-prefixed path or an expression inside an object');
  } else {
    fail(LocationCodes.SortByCountWrongType, 'the sortByCount field must be specified as a string or as an object');
  }
  const group = compileGroup({ _id: spec, count: { $sum: 1 } }, cc);
  const fields = sortFields({ count: -1 })!;
  return {
    name: '$sortByCount',
    fallback: false,
    run: (input, run) => sortDocuments([...group.run(input, run)], fields, cc.collation),
  };
}
