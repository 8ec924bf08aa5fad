/**
 * fast-check arbitraries for the command fuzzer (commands.test.ts): random but plausible command
 * documents for the storage commands, whose fields are sometimes well formed and sometimes of any
 * BSON type, with unknown operators and stages mixed in.
 *
 * Two placeholders stand for values only known while a run goes: CURSOR (the id of the last
 * cursor a reply opened) is replaced before sending. No generated value names the `keep`
 * database, where the test keeps the document it checks after every run.
 */
import fc from 'fast-check';
import {
  Binary,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';

/** Stands for the id of the last cursor a reply opened (replaced before sending). */
export const CURSOR = '\u0001CURSOR';

/** A command to send: its document and the database it runs against. */
export interface FuzzCommand {
  readonly db: string;
  readonly doc: Document;
}

/** A plain object from entries, own properties even for `__proto__` (as BSON decodes them). */
function docOf(entries: ReadonlyArray<readonly [string, unknown]>): Document {
  const out: Document = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

const safeString = fc.string({ maxLength: 8 }).filter((s) => !s.includes('keep') && !s.includes('\u0000'));

export const fieldName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', 'x', 'n', 's', 'arr', '_id') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'a.b',
      'x.y.z',
      'arr.0',
      'arr.1.b',
      '',
      '$bad',
      '$',
      'a.$',
      'a..b',
      '.a',
      'a.',
      'arr.$[]',
      'arr.$[e]',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      '$$ROOT',
      '_id.x',
    ),
  },
  { weight: 1, arbitrary: safeString },
);

const decimal = fc
  .constantFrom('0', '1', '-1', '1.5', '-0', 'NaN', 'Infinity', '-Infinity', '1E+6144', '9.999999999999999999999999999999999E+6144', '1E-6176', '123456789012345678901234567890')
  .map((s) => Decimal128.fromString(s));

const regex = fc
  .tuple(
    fc.constantFrom('a', '^x', '.*', '(', '[', '\\', 'a{2,1}', '(?<n>a)', '\\p{L}', '(?i)a', 'a++', '\\Z', '[[:alpha:]]', ''),
    fc.constantFrom('', 'i', 'm', 's', 'x', 'imsx', 'u', 'l'),
  )
  .map(([p, f]) => new BSONRegExp(p, f));

const binary = fc
  .tuple(fc.uint8Array({ maxLength: 20 }), fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 128))
  .map(([b, s]) => new Binary(Buffer.from(b), s));

export const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 5 }).map((n) => new Int32(n)),
  fc.integer().map((n) => new Int32(n)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.constantFrom(Long.fromNumber(0), Long.fromNumber(1), Long.MAX_VALUE, Long.MIN_VALUE, Long.fromNumber(-1)),
  fc.double().map((d) => new Double(d)),
  fc.constantFrom(new Double(0.5), new Double(-0), new Double(NaN), new Double(Infinity), new Double(1e308), new Double(2 ** 53 + 2)),
  decimal,
  safeString,
  fc.constantFrom('$a', '$arr', '$$ROOT', '$$NOW', '$$CURRENT', '$$nope', 'a.b', '$', '$$', '1', 'abc'),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ minLength: 12, maxLength: 12 }).map((b) => new ObjectId(Buffer.from(b))),
  fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }).map((n) => new Date(Math.trunc(n))),
  regex,
  binary,
  fc.constant(new MinKey()),
  fc.constant(new MaxKey()),
  fc.constant(new Timestamp({ t: 1, i: 1 })),
);

/** Any BSON value: a scalar, or a small array or document of values. */
export const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fieldName, tie('value')), { maxLength: 4 }).map(docOf) },
  ),
})).value;

/** `good` most of the time, any value otherwise. */
function mostly<T>(good: fc.Arbitrary<T>, weight = 5): fc.Arbitrary<unknown> {
  return fc.oneof({ weight, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: anyValue });
}

const smallInt = fc.oneof(
  fc.integer({ min: 0, max: 10 }).map((n) => new Int32(n)),
  fc.integer({ min: -2, max: 5 }).map((n) => new Double(n)),
  fc.integer({ min: 0, max: 5 }).map((n) => Long.fromNumber(n)),
  fc.constantFrom(new Double(1.5), new Double(-1), new Int32(-1), Long.fromNumber(-5), new Double(NaN), Decimal128.fromString('2'), new Double(1e20), Long.MAX_VALUE),
);

export const collectionName = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('a', 'b', 'c') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'system.views', 'system.js', 'system.profile', 'system.indexes', '$cmd', 'a.b', 'a$b', ' ', 'system.buckets.x', 'x'.repeat(300), 'oplog.$main'),
  },
  { weight: 1, arbitrary: anyValue },
);

// ---------------------------------------------------------------------------------------------
// Queries, expressions, updates.

const queryOperator = fc.constantFrom(
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$regex', '$options', '$size', '$all',
  '$elemMatch', '$not', '$mod', '$bitsAllSet', '$bitsAnyClear', '$near', '$geoWithin', '$where', '$expr', '$comment',
  '$foo', '$and', '$jsonSchema', '$text',
);

const expressionOperator = fc.constantFrom(
  '$add', '$subtract', '$multiply', '$divide', '$mod', '$concat', '$substr', '$substrCP', '$toUpper', '$toLower', '$cond',
  '$ifNull', '$size', '$sum', '$avg', '$min', '$max', '$first', '$last', '$literal', '$map', '$filter', '$reduce',
  '$arrayElemAt', '$dateToString', '$toString', '$toInt', '$toDate', '$convert', '$regexMatch', '$split', '$let',
  '$objectToArray', '$arrayToObject', '$mergeObjects', '$switch', '$eq', '$gt', '$in', '$and', '$or', '$not', '$type',
  '$abs', '$floor', '$round', '$trunc', '$pow', '$sqrt', '$log', '$exp', '$strLenCP', '$indexOfArray', '$slice',
  '$concatArrays', '$setUnion', '$reverseArray', '$zip', '$range', '$getField', '$setField', '$unknownOp', '$$ROOT',
);

/** An aggregation expression. `$range` is kept small: mongod refuses a huge one by its memory limit. */
export const expression: fc.Arbitrary<unknown> = fc.letrec<{ expr: unknown }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    { weight: 2, arbitrary: fc.constantFrom('$a', '$b', '$n', '$arr', '$x.y', '$$ROOT', '$$CURRENT', '$$this', '$$value', '$_id') },
    {
      weight: 3,
      arbitrary: fc
        .tuple(expressionOperator, fc.oneof(fc.array(tie('expr'), { maxLength: 3 }), tie('expr')))
        .filter(([op, args]) => op !== '$range' || JSON.stringify(args).length < 40)
        .map(([op, args]) => docOf([[op, args]])),
    },
    { weight: 1, arbitrary: fc.array(fc.tuple(fieldName, tie('expr')), { maxLength: 3 }).map(docOf) },
  ),
})).expr;

const predicate = fc.oneof(
  { weight: 2, arbitrary: anyValue },
  { weight: 3, arbitrary: fc.array(fc.tuple(queryOperator, anyValue), { minLength: 1, maxLength: 2 }).map(docOf) },
);

export const filter: fc.Arbitrary<Document> = fc.letrec<{ filter: Document }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: fc.array(fc.tuple(fieldName, predicate), { maxLength: 3 }).map(docOf) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('$and', '$or', '$nor'), mostly(fc.array(tie('filter'), { maxLength: 3 })))
        .map(([op, v]) => docOf([[op, v]])),
    },
    { weight: 1, arbitrary: expression.map((e) => ({ $expr: e })) },
    { weight: 1, arbitrary: fc.constantFrom<Document>({ $where: 'this.a == 1' }, { $text: { $search: 'x' } }, { $comment: 'c' }, { $alwaysTrue: 1 }, { $foo: 1 }) },
  ),
})).filter;

const projection = fc.array(fc.tuple(fieldName, fc.oneof(fc.constantFrom(new Int32(0), new Int32(1), true, false), expression, fc.constant({ $slice: 1 }), fc.constant({ $elemMatch: { b: 1 } }))), { maxLength: 3 }).map(docOf);

const sortSpec = fc.array(
  fc.tuple(fieldName, mostly(fc.constantFrom(new Int32(1), new Int32(-1), new Double(1), Long.fromNumber(-1), { $meta: 'textScore' }, { $meta: 'randVal' }), 6)),
  { maxLength: 3 },
).map(docOf);

const updateOperator = fc.constantFrom(
  '$set', '$unset', '$inc', '$mul', '$rename', '$push', '$pull', '$pullAll', '$addToSet', '$pop', '$min', '$max',
  '$currentDate', '$setOnInsert', '$bit', '$foo',
);

const updateOperand = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.tuple(fieldName, anyValue), { maxLength: 3 }).map(docOf) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Document>({ arr: { $each: [1, 2], $slice: -1, $sort: 1 } }, { arr: { $each: 5 } }, { a: { $type: 'date' } }, { a: { and: 5 } }, { 'arr.$[e]': 1 }),
  },
  { weight: 1, arbitrary: anyValue },
);

const updateStage = fc.oneof(
  fc.array(fc.tuple(fieldName, expression), { maxLength: 2 }).map((e) => ({ $set: docOf(e) })),
  fc.array(fc.tuple(fieldName, expression), { maxLength: 2 }).map((e) => ({ $addFields: docOf(e) })),
  mostly(fc.array(fieldName, { maxLength: 2 })).map((v) => ({ $unset: v })),
  projection.map((p) => ({ $project: p })),
  expression.map((e) => ({ $replaceWith: e })),
  expression.map((e) => ({ $replaceRoot: { newRoot: e } })),
  fc.constant({ $match: { a: 1 } }),
);

export const updateSpec: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.array(fc.tuple(updateOperator, updateOperand), { minLength: 1, maxLength: 2 }).map(docOf) },
  { weight: 2, arbitrary: fc.array(fc.tuple(fieldName, anyValue), { maxLength: 3 }).map(docOf) },
  { weight: 2, arbitrary: fc.array(updateStage, { maxLength: 2 }) },
  { weight: 1, arbitrary: anyValue },
);

const arrayFilters = mostly(fc.array(fc.oneof(fc.constant({ e: { $gt: 1 } }), fc.constant({ 'e.b': 1 }), filter, anyValue), { maxLength: 2 }));

const hint = fc.oneof(fc.constantFrom('_id_', 'b_1', 'nope', '', { _id: 1 }, { b: 1 }, { $natural: 1 }, { $natural: -1 }, {}), anyValue);

const collation = fc.oneof(fc.constantFrom({ locale: 'simple' }, { locale: 'en', strength: 2 }, { locale: 'fr' }, { locale: 'xx_bad' }, {}), anyValue);

// ---------------------------------------------------------------------------------------------
// Pipelines.

const groupSpec = fc
  .tuple(
    mostly(expression),
    fc.array(fc.tuple(fieldName, mostly(fc.tuple(fc.constantFrom('$sum', '$avg', '$min', '$max', '$push', '$addToSet', '$first', '$last', '$count', '$top', '$mergeObjects', '$stdDevPop', '$bogus'), expression).map(([op, e]) => docOf([[op, e]])))), { maxLength: 3 }),
  )
  .map(([id, accs]) => docOf([['_id', id], ...accs]));

const lookupSpec = fc
  .record(
    {
      from: mostly(fc.constantFrom('a', 'b', 'c', 'missing')),
      localField: mostly(fieldName),
      foreignField: mostly(fieldName),
      as: mostly(fc.constantFrom('joined', 'a', '_id', 'x.y')),
      let: mostly(fc.constant({ v: '$a' })),
      pipeline: mostly(fc.array(fc.constantFrom<Document>({ $match: { $expr: { $eq: ['$a', '$$v'] } } }, { $limit: 1 }, { $project: { _id: 0 } }, { $documents: [{ q: 1 }] }, { $out: 'x' }), { maxLength: 2 })),
      bogus: anyValue,
    },
    { requiredKeys: [] },
  );

function writeTarget(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('out1', 'out2', 'a') },
    { weight: 2, arbitrary: fc.record({ db: mostly(fc.constantFrom('fuzz', 'fuzz2')), coll: mostly(fc.constantFrom('out1', 'out2', 'b')) }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.constantFrom('', 'system.x', '$x', 'a.b') },
    { weight: 1, arbitrary: anyValue },
  );
}

const mergeSpec = fc.oneof(
  writeTarget(),
  fc.record(
    {
      into: writeTarget(),
      on: mostly(fc.oneof(fc.constantFrom('_id', 'a', 'b'), fc.array(fc.constantFrom('_id', 'a', 'b', ''), { maxLength: 3 }))),
      whenMatched: mostly(fc.oneof(fc.constantFrom('replace', 'keepExisting', 'merge', 'fail', 'bogus'), fc.array(updateStage, { maxLength: 2 }))),
      whenNotMatched: mostly(fc.constantFrom('insert', 'discard', 'fail', 'bogus')),
      let: mostly(fc.constant({ v: '$a' })),
      bogus: anyValue,
    },
    { requiredKeys: [] },
  ),
);

const collStatsSpec = fc.oneof(
  fc.record(
    {
      latencyStats: mostly(fc.record({ histograms: mostly(fc.boolean()) }, { requiredKeys: [] })),
      storageStats: mostly(fc.record({ scale: mostly(smallInt) }, { requiredKeys: [] })),
      count: mostly(fc.constant({})),
      queryExecStats: mostly(fc.constant({})),
      bogus: anyValue,
    },
    { requiredKeys: [] },
  ),
  anyValue,
);

export const stage: fc.Arbitrary<unknown> = fc.letrec<{ stage: unknown }>((tie) => ({
  stage: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    mostly(filter).map((f) => ({ $match: f })),
    mostly(projection).map((p) => ({ $project: p })),
    mostly(groupSpec).map((g) => ({ $group: g })),
    mostly(sortSpec).map((s) => ({ $sort: s })),
    mostly(smallInt).map((n) => ({ $limit: n })),
    mostly(smallInt).map((n) => ({ $skip: n })),
    mostly(fc.oneof(fc.constantFrom('$arr', '$a', 'arr', '$nope'), fc.record({ path: mostly(fc.constantFrom('$arr', 'x')), includeArrayIndex: mostly(fc.constantFrom('i', '$i')), preserveNullAndEmptyArrays: mostly(fc.boolean()) }, { requiredKeys: [] }))).map((u) => ({ $unwind: u })),
    mostly(lookupSpec).map((l) => ({ $lookup: l })),
    mostly(fc.record({ from: mostly(fc.constantFrom('a', 'b')), startWith: expression, connectFromField: mostly(fieldName), connectToField: mostly(fieldName), as: mostly(fc.constantFrom('g')), maxDepth: mostly(smallInt), depthField: mostly(fc.constantFrom('d')), restrictSearchWithMatch: mostly(filter) }, { requiredKeys: [] })).map((g) => ({ $graphLookup: g })),
    mostly(fc.oneof(fc.constantFrom('a', 'b', 'missing'), fc.record({ coll: mostly(fc.constantFrom('a', 'b')), pipeline: mostly(fc.array(tie('stage'), { maxLength: 2 })) }, { requiredKeys: [] }))).map((u) => ({ $unionWith: u })),
    mostly(writeTarget()).map((o) => ({ $out: o })),
    mergeSpec.map((m) => ({ $merge: m })),
    collStatsSpec.map((s) => ({ $collStats: s })),
    mostly(fc.constantFrom('count', 'n', '', '$x', 'a.b')).map((c) => ({ $count: c })),
    mostly(fc.array(fc.tuple(fieldName, expression), { maxLength: 2 }).map(docOf)).map((a) => ({ $addFields: a })),
    mostly(fc.array(fc.tuple(fieldName, expression), { maxLength: 2 }).map(docOf)).map((a) => ({ $set: a })),
    mostly(fc.oneof(fieldName, fc.array(fieldName, { maxLength: 2 }))).map((u) => ({ $unset: u })),
    mostly(fc.record({ newRoot: mostly(expression) }, { requiredKeys: [] })).map((r) => ({ $replaceRoot: r })),
    mostly(expression).map((r) => ({ $replaceWith: r })),
    mostly(fc.array(fc.tuple(fc.constantFrom('f1', 'f2', ''), mostly(fc.array(tie('stage'), { maxLength: 2 }))), { maxLength: 2 }).map(docOf)).map((f) => ({ $facet: f })),
    mostly(fc.record({ size: mostly(smallInt) }, { requiredKeys: [] })).map((s) => ({ $sample: s })),
    mostly(expression).map((e) => ({ $sortByCount: e })),
    mostly(fc.record({ groupBy: mostly(expression), boundaries: mostly(fc.array(smallInt, { maxLength: 3 })), default: mostly(fc.constantFrom('other')), output: mostly(fc.constant({ n: { $sum: 1 } })) }, { requiredKeys: [] })).map((b) => ({ $bucket: b })),
    mostly(fc.record({ groupBy: mostly(expression), buckets: mostly(smallInt) }, { requiredKeys: [] })).map((b) => ({ $bucketAuto: b })),
    mostly(fc.array(anyValue, { maxLength: 3 })).map((d) => ({ $documents: d })),
    expression.map((e) => ({ $redact: e })),
    fc.constantFrom<Document>({ $bogusStage: 1 }, { $indexStats: {} }, { $listSessions: {} }, { $currentOp: {} }, { $changeStream: {} }, { $planCacheStats: {} }, {}, { $match: {}, $limit: 1 }, { $densify: { field: 'n', range: { step: 1, bounds: 'full' } } }, { $fill: { output: { a: { value: 1 } } } }, { $setWindowFields: { sortBy: { n: 1 }, output: { r: { $rank: {} } } } }),
  ),
})).stage;

export const pipeline = fc.oneof({ weight: 8, arbitrary: fc.array(stage, { maxLength: 4 }) }, { weight: 1, arbitrary: anyValue });

// ---------------------------------------------------------------------------------------------
// Commands.

type Fields = Record<string, fc.Arbitrary<unknown>>;

/**
 * A command document: its name first with a value from `target`, then any of `fields` (each may
 * be left out), and now and then a field no command knows.
 */
function command(name: string, target: fc.Arbitrary<unknown>, fields: Fields, dbs: fc.Arbitrary<string> = fuzzDb): fc.Arbitrary<FuzzCommand> {
  return fc
    .tuple(target, fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(fc.constantFrom('bogusField', 'comment', 'maxTimeMS', 'let'), anyValue), { freq: 8 }), dbs)
    .map(([t, rest, extra, db]) => {
      const entries: Array<[string, unknown]> = [[name, t], ...Object.entries(rest)];
      if (extra !== null) entries.push(extra);
      return { db, doc: docOf(entries) };
    });
}

export const fuzzDb = fc.oneof(
  { weight: 20, arbitrary: fc.constant('fuzz') },
  { weight: 2, arbitrary: fc.constant('fuzz2') },
  { weight: 1, arbitrary: fc.constantFrom('admin', 'config', 'local', 'a.b', 'x$y', 'x y', 'x'.repeat(70)) },
);

const adminDb = fc.oneof({ weight: 8, arbitrary: fc.constant('admin') }, { weight: 1, arbitrary: fc.constant('fuzz') });

const documentToInsert = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(fieldName, anyValue), { maxLength: 4 }).map(docOf) },
  { weight: 1, arbitrary: anyValue },
);

const namespace = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom('fuzz', 'fuzz2'), fc.constantFrom('a', 'b', 'c', 'r1', 'r2')).map(([d, c]) => `${d}.${c}`) },
  { weight: 1, arbitrary: fc.constantFrom('fuzz', 'fuzz.', '.a', 'fuzz.system.views', 'fuzz.$cmd', 'a.b.c', '', 'admin.system.users', 'fuzz.' + 'x'.repeat(300)) },
  { weight: 1, arbitrary: anyValue },
);

const cursorValue = fc.oneof(
  { weight: 5, arbitrary: fc.constant(CURSOR) },
  { weight: 1, arbitrary: fc.constantFrom(Long.fromNumber(0), Long.fromNumber(123456789), Long.fromNumber(-1)) },
  { weight: 1, arbitrary: anyValue },
);

const indexSpec = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record(
      {
        key: mostly(fc.array(fc.tuple(fieldName, mostly(fc.constantFrom(new Int32(1), new Int32(-1), 'text', '2dsphere', 'hashed', new Double(0), 'bogus'), 6)), { maxLength: 2 }).map(docOf)),
        name: mostly(fc.constantFrom('i1', 'i2', 'b_1', '_id_', '')),
        unique: mostly(fc.boolean()),
        sparse: mostly(fc.boolean()),
        partialFilterExpression: mostly(filter),
        expireAfterSeconds: mostly(smallInt),
        bogus: anyValue,
      },
      { requiredKeys: ['key'] },
    ),
  },
  { weight: 1, arbitrary: anyValue },
);

const findFields: Fields = {
  filter: mostly(filter),
  projection: mostly(projection),
  sort: mostly(sortSpec),
  skip: mostly(smallInt),
  limit: mostly(smallInt),
  batchSize: mostly(smallInt),
  singleBatch: mostly(fc.boolean()),
  hint,
  collation,
  max: anyValue,
  min: anyValue,
  returnKey: anyValue,
  showRecordId: anyValue,
  allowDiskUse: mostly(fc.boolean()),
  noCursorTimeout: anyValue,
};

export const findCommand = command('find', collectionName, findFields);

const insertCommand = command('insert', collectionName, {
  documents: mostly(fc.array(documentToInsert, { maxLength: 4 })),
  ordered: mostly(fc.boolean()),
  bypassDocumentValidation: anyValue,
});

const updateStatement = mostly(
  fc.record(
    { q: mostly(filter), u: updateSpec, upsert: mostly(fc.boolean()), multi: mostly(fc.boolean()), arrayFilters, hint, collation, c: anyValue, bogus: anyValue },
    { requiredKeys: ['q', 'u'] },
  ),
);

const updateCommand = command('update', collectionName, {
  updates: mostly(fc.array(updateStatement, { maxLength: 3 })),
  ordered: mostly(fc.boolean()),
  let: anyValue,
});

const deleteStatement = mostly(
  fc.record({ q: mostly(filter), limit: mostly(fc.constantFrom(new Int32(0), new Int32(1), new Double(1), Long.fromNumber(0), new Int32(2))), hint, collation, bogus: anyValue }, { requiredKeys: ['q', 'limit'] }),
);

const deleteCommand = command('delete', collectionName, {
  deletes: mostly(fc.array(deleteStatement, { maxLength: 3 })),
  ordered: mostly(fc.boolean()),
});

const findAndModifyCommand = command('findAndModify', collectionName, {
  query: mostly(filter),
  sort: mostly(sortSpec),
  update: updateSpec,
  remove: mostly(fc.boolean()),
  new: mostly(fc.boolean()),
  fields: mostly(projection),
  upsert: mostly(fc.boolean()),
  arrayFilters,
  hint,
  collation,
  bypassDocumentValidation: anyValue,
});

const countCommand = command('count', collectionName, { query: mostly(filter), skip: mostly(smallInt), limit: mostly(smallInt), hint, collation });

const distinctCommand = command('distinct', collectionName, { key: mostly(fieldName), query: mostly(filter), hint, collation });

const aggregateTarget = fc.oneof({ weight: 6, arbitrary: collectionName }, { weight: 1, arbitrary: fc.constantFrom(new Int32(1), new Double(1), Long.fromNumber(1)) });

const aggregateFields: Fields = {
  pipeline,
  cursor: mostly(fc.record({ batchSize: mostly(smallInt), bogus: anyValue }, { requiredKeys: [] })),
  explain: mostly(fc.boolean(), 1),
  allowDiskUse: mostly(fc.boolean()),
  hint,
  collation,
  let: mostly(fc.constant({ v: 1 })),
  bypassDocumentValidation: anyValue,
};

export const aggregateCommand = command('aggregate', aggregateTarget, aggregateFields);

const getMoreCommand = command('getMore', cursorValue, { collection: collectionName, batchSize: mostly(smallInt), maxTimeMS: mostly(smallInt) });

const killCursorsCommand = command('killCursors', collectionName, { cursors: mostly(fc.array(cursorValue, { maxLength: 3 })) });

const createCommand = command('create', collectionName, {
  capped: mostly(fc.boolean()),
  size: mostly(smallInt),
  max: mostly(smallInt),
  validator: mostly(filter),
  viewOn: anyValue,
  pipeline: anyValue,
  collation,
  clusteredIndex: anyValue,
  timeseries: anyValue,
});

const dropCommand = command('drop', collectionName, {});

const createIndexesCommand = command('createIndexes', collectionName, {
  indexes: mostly(fc.array(indexSpec, { maxLength: 3 })),
  commitQuorum: anyValue,
});

const dropIndexesCommand = command('dropIndexes', collectionName, {
  index: mostly(fc.oneof(fc.constantFrom('*', 'i1', 'i2', 'b_1', '_id_', 'nope', { b: 1 }, { _id: 1 }), fc.array(fc.constantFrom('i1', 'i2', '_id_', 'nope'), { maxLength: 2 }))),
});

const listIndexesCommand = command('listIndexes', collectionName, { cursor: mostly(fc.record({ batchSize: mostly(smallInt) }, { requiredKeys: [] })) });

const listCollectionsCommand = command('listCollections', mostly(fc.constant(new Int32(1))), {
  filter: mostly(filter),
  nameOnly: mostly(fc.boolean()),
  authorizedCollections: mostly(fc.boolean()),
  cursor: mostly(fc.record({ batchSize: mostly(smallInt) }, { requiredKeys: [] })),
});

const listDatabasesCommand = command(
  'listDatabases',
  mostly(fc.constant(new Int32(1))),
  { filter: mostly(filter), nameOnly: mostly(fc.boolean()), authorizedDatabases: mostly(fc.boolean()) },
  adminDb,
);

const renameCollectionCommand = command(
  'renameCollection',
  namespace,
  { to: namespace, dropTarget: mostly(fc.boolean()), stayTemp: anyValue },
  adminDb,
);

const collStatsCommand = command('collStats', collectionName, { scale: mostly(smallInt) });

const dbStatsCommand = command('dbStats', mostly(fc.constant(new Int32(1))), { scale: mostly(smallInt), freeStorage: anyValue });

/** What explain may wrap: the query and write commands, and now and then anything. */
const explainable = fc.oneof(findCommand, aggregateCommand, countCommand, distinctCommand, updateCommand, deleteCommand, findAndModifyCommand, insertCommand, dbStatsCommand);

const explainCommand = fc
  .tuple(
    fc.oneof({ weight: 6, arbitrary: explainable.map((c) => c.doc) }, { weight: 1, arbitrary: anyValue }),
    fc.option(mostly(fc.constantFrom('queryPlanner', 'executionStats', 'allPlansExecution', 'bogus')), { freq: 2 }),
  )
  .map(([inner, verbosity]) => ({ db: 'fuzz', doc: verbosity === null ? { explain: inner } : { explain: inner, verbosity } }));

/** Any one of the storage commands, the ones that read or write most often the likeliest. */
export const anyCommand: fc.Arbitrary<FuzzCommand> = fc.oneof(
  { weight: 4, arbitrary: insertCommand },
  { weight: 4, arbitrary: findCommand },
  { weight: 2, arbitrary: getMoreCommand },
  { weight: 1, arbitrary: killCursorsCommand },
  { weight: 3, arbitrary: updateCommand },
  { weight: 2, arbitrary: deleteCommand },
  { weight: 3, arbitrary: findAndModifyCommand },
  { weight: 2, arbitrary: countCommand },
  { weight: 2, arbitrary: distinctCommand },
  { weight: 5, arbitrary: aggregateCommand },
  { weight: 1, arbitrary: createCommand },
  { weight: 1, arbitrary: dropCommand },
  { weight: 2, arbitrary: createIndexesCommand },
  { weight: 1, arbitrary: dropIndexesCommand },
  { weight: 1, arbitrary: listIndexesCommand },
  { weight: 1, arbitrary: listCollectionsCommand },
  { weight: 1, arbitrary: listDatabasesCommand },
  { weight: 1, arbitrary: renameCollectionCommand },
  { weight: 2, arbitrary: explainCommand },
  { weight: 1, arbitrary: collStatsCommand },
  { weight: 1, arbitrary: dbStatsCommand },
);
