/**
 * $sort, $limit, $skip, $sample, $count and $sortByCount. Documents pass through as the input's
 * own objects ($sample's are copies carrying their random value, the very field values kept);
 * $limit stops reading its input once it has its documents.
 *
 * Sources (mongodb/mongo, src/mongo/db/pipeline/): document_source_sort.cpp and
 * ../query/sort_pattern.cpp (15973, 15974 "Illegal key in $sort specification: <elem>", 15975, 15976;
 * a {$meta: <name>} key: 17312 when its first field is not $meta, FailedToParse "Cannot have
 * additional keys in a $meta sort specification", textScore, randVal and geoNearDistance allowed,
 * 31218 searchScore, 31219 searchHighlights, 31138 "Illegal $meta sort: <elem>" otherwise; sorted
 * descending by the document's metadata, null when it has none, ../index/sort_key_generator.cpp),
 * query/sort.ts for mongod's sort order (the collation's for strings); the metadata mongod reports
 * unavailable without $text and $geoNear (40218, dependencies.cpp) is refused once the pattern is
 * parsed; document_source_limit.cpp / document_source_skip.cpp
 * (parseIntegerElementToNonNegativeLong: 5107201 / 5107200 "invalid argument to $limit stage: ...",
 * 15958 "the limit must be positive"); document_source_sample.cpp (each document gets a random
 * value, randVal, and the largest `size` come out, largest first: distinct documents, no
 * repeats); document_source_count.cpp (40156-40160; {$group: {_id: null, n: {$sum: 1}}}
 * then {$project: {_id: 0, n: 1}}: no document for no input, an int count that becomes a long);
 * document_source_sort_by_count.cpp (40147, 40148, 40149; $group by the expression with
 * count: {$sum: 1}, then $sort {count: -1}).
 */
import { ErrorCodes, LocationCodes } from '../../errors.js';
import { Double, Int32, Long, type Document } from 'bson';
import { numberValue } from '../../bson/args.js';
import { attachMetadata, metadataOf, unavailableMetadata } from '../expression/meta.js';
import { elementText, objectKind, parseIntegerElement } from '../match/values.js';
import { notSupported } from '../queryErrors.js';
import { sortDocuments, sortFields } from '../sort.js';
import type { CompileContext, CompiledStage } from './context.js';
import { fail } from './errors.js';
import { compileGroup } from './group.js';
import { asObj, copyDocument, fieldPath, type Obj } from './values.js';

type SortField = NonNullable<ReturnType<typeof sortFields>>[number];

/** A part of a sort pattern (SortPatternPart): a field, or a metadata type sorted descending. */
type SortPart = { readonly field: SortField; readonly meta?: undefined } | { readonly meta: string; readonly field?: undefined };

/** A {$meta: <name>} key of a sort pattern (sort_pattern.cpp): the metadata's name. */
function parseMetaSortKey(obj: Obj): string {
  const keys = Object.keys(obj);
  if (keys[0] !== '$meta') fail(LocationCodes.SortMetaOnly, '$meta is the only expression supported by $sort right now');
  if (keys.length !== 1) fail(ErrorCodes.FailedToParse, 'Cannot have additional keys in a $meta sort specification');
  const name = obj.$meta;
  // valueStringDataSafe: a value that is not a string reads as "".
  switch (typeof name === 'string' ? name : '') {
    case 'textScore':
    case 'randVal':
    case 'geoNearDistance':
      return name as string;
    case 'searchScore':
      return fail(LocationCodes.SortMetaSearchScore, "$meta sort by 'searchScore' metadata is not supported");
    case 'searchHighlights':
      return fail(LocationCodes.SortMetaSearchHighlights, "$meta sort by 'searchHighlights' metadata is not supported");
    default:
      return fail(LocationCodes.SortMetaIllegal, `Illegal $meta sort: ${elementText('$meta', name)}`);
  }
}

/** Parses a $sort spec as SortPattern does. */
function parseSortPattern(spec: unknown): SortPart[] {
  if (objectKind(spec) !== 1) fail(LocationCodes.SortNotObject, 'the $sort key specification must be an object');
  const obj = spec as Obj;
  const parts: SortPart[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (objectKind(value) !== 0) {
      parts.push({ meta: parseMetaSortKey(asObj(value)) });
      continue;
    }
    const n = numberValue(value);
    if (n === undefined) fail(LocationCodes.SortIllegalKey, `Illegal key in $sort specification: ${elementText(key, value)}`);
    if (n !== 1 && n !== -1) fail(LocationCodes.SortBadDirection, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    parts.push({ field: { parts: fieldPath(key), descending: n === -1 } });
  }
  if (parts.length === 0) fail(LocationCodes.SortEmpty, '$sort stage must have at least one sort key');
  return parts;
}

/** Parses a $sort spec as SortPattern does; throws 115 for a computed ({$meta}) sort. */
export function parseSortSpec(spec: unknown): SortField[] {
  return parseSortPattern(spec).map((part) => {
    if (part.field === undefined) throw notSupported('a sort by $meta');
    return part.field;
  });
}

/**
 * Documents in the pattern's order. A metadata part sorts by the value each document carries
 * (null when it has none): the documents are wrapped with their metadata values beside them so
 * that one sort (query/sort.ts) orders fields and metadata together, ties in input order.
 */
function sortByPattern(docs: readonly Document[], parts: readonly SortPart[], collation: Document | undefined): Document[] {
  if (parts.every((p) => p.meta === undefined)) return sortDocuments(docs, parts.map((p) => p.field!), collation);
  const fields = parts.map((p, i): SortField => (p.meta === undefined ? { parts: ['d', ...p.field.parts], descending: p.field.descending } : { parts: [`m${i}`], descending: true }));
  const wrapped = docs.map((d) => {
    const w: Document = { d };
    parts.forEach((p, i) => {
      // randVal: the other metadata a sort names are unavailable (refused when compiling).
      if (p.meta !== undefined) w[`m${i}`] = metadataOf(d)?.randVal ?? null;
    });
    return w;
  });
  return sortDocuments(wrapped, fields, collation).map((w) => w.d as Document);
}

export function compileSort(spec: unknown, cc: CompileContext): CompiledStage {
  const parts = parseSortPattern(spec);
  for (const p of parts) {
    const unavailable = p.meta === undefined ? undefined : unavailableMetadata(p.meta);
    if (unavailable !== undefined) throw unavailable;
  }
  return {
    name: '$sort',
    fallback: false,
    run(input) {
      return sortByPattern([...input], parts, cc.collation);
    },
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

/**
 * $sample: each document gets a random value (randVal metadata) and the `size` with the largest
 * come out, largest first (the spec was checked: stageShapes). They come out as copies carrying
 * their value: metadata is the run's, and the input may be stored documents.
 */
export function compileSample(spec: unknown): CompiledStage {
  const size = Math.trunc(numberValue((spec as Obj).size) ?? 0);
  return {
    name: '$sample',
    fallback: false,
    run(input) {
      const drawn = [...input].map((doc) => ({ doc, randVal: Math.random() }));
      drawn.sort((a, b) => b.randVal - a.randVal);
      return drawn.slice(0, Math.max(0, size)).map(({ doc, randVal }) => {
        const copy = copyDocument(doc);
        attachMetadata(copy, { randVal: new Double(randVal) });
        return copy;
      });
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
