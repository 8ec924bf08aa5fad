/**
 * Views through dispatch, in process (mongod 7.0's non-materialized views): create with viewOn
 * and its checks (view_catalog_helpers.cpp validatePipeline, view_graph.cpp, views_for_database.cpp),
 * system.views, listCollections, drop and collMod of a view, reads through views (find, count,
 * distinct, aggregate, $lookup/$unionWith/$graphLookup, explain) and the refusals of writes and
 * collection commands (166), collations (167).
 */
import { Int32, Long, type Document } from 'bson';
import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../../src/commands/client.js';
import { ViewCatalog } from '../../../src/storage/viewCatalog.js';
import { Catalog } from '../../../src/storage/catalog.js';
import { checkViewPipeline, involvedCollections } from '../../../src/pipeline/viewDefinition.js';
import { expectError, expectOk, plain, serverPool, type InProcessServer } from '../../helpers/inProcess.js';
import { mongoError } from '../../helpers/mongoErrors.js';

const servers = serverPool();
afterEach(() => servers.stopAll());

interface Fixture {
  server: InProcessServer;
  client: Client;
  run(body: Document): Promise<Document>;
  ok(body: Document): Promise<Document>;
  batch(body: Document): Promise<Document[]>;
}

/** test.src: ten documents {_id: i, g: i % 3, v: 10 i}; test.other: {_id: i, g: i} for i < 3; views v1 (g = 1) and v4 (v1, projected). */
async function seeded(): Promise<Fixture> {
  const server = servers.make();
  const client = server.client();
  const run = (body: Document): Promise<Document> => server.run(client, { ...body, $db: 'test' });
  const ok = async (body: Document): Promise<Document> => expectOk(await run(body));
  const batch = async (body: Document): Promise<Document[]> => plain(await ok(body)).cursor.firstBatch as Document[];
  await ok({ insert: 'src', documents: Array.from({ length: 10 }, (_, i) => ({ _id: i, g: i % 3, v: i * 10 })) });
  await ok({ insert: 'other', documents: [0, 1, 2].map((i) => ({ _id: i, g: i })) });
  await ok({ create: 'v1', viewOn: 'src', pipeline: [{ $match: { g: 1 } }] });
  await ok({ create: 'v4', viewOn: 'v1', pipeline: [{ $project: { v: 1, g: 1 } }] });
  return { server, client, run, ok, batch };
}

const ids = (docs: Document[]): unknown[] => docs.map((d) => d._id);

describe('create with viewOn', () => {
  test('answers ok and stores the definition in system.views, as mongod keeps it', async () => {
    const { batch } = await seeded();
    expect(await batch({ find: 'system.views' })).toEqual([
      { _id: 'test.v1', viewOn: 'src', pipeline: [{ $match: { g: 1 } }] },
      { _id: 'test.v4', viewOn: 'v1', pipeline: [{ $project: { v: 1, g: 1 } }] },
    ]);
  });

  test('a collation is stored whole; simple is no collation', async () => {
    const { ok, batch } = await seeded();
    await ok({ create: 'fr', viewOn: 'src', pipeline: [], collation: { locale: 'fr' } });
    await ok({ create: 'simple', viewOn: 'src', pipeline: [], collation: { locale: 'simple' } });
    const [fr, simple] = await batch({ find: 'system.views', filter: { _id: { $in: ['test.fr', 'test.simple'] } } });
    expect(fr!.collation).toEqual({
      locale: 'fr', caseLevel: false, caseFirst: 'off', strength: 3, numericOrdering: false,
      alternate: 'non-ignorable', maxVariable: 'punct', normalization: false, backwards: false, version: '57.1',
    });
    expect(simple).toEqual({ _id: 'test.simple', viewOn: 'src', pipeline: [] });
  });

  test("mongod's refusals, each with its code and text", async () => {
    const { run, ok } = await seeded();
    await ok({ create: 'fr', viewOn: 'src', pipeline: [], collation: { locale: 'fr' } });
    const cases: Array<[Document, number, string, string]> = [
      [{ create: 'bad', pipeline: [] }, 72, 'InvalidOptions', "'pipeline' requires 'viewOn' to also be specified"],
      [{ create: 'bad', viewOn: 'src', pipeline: [{ $nope: 1 }] }, 40324, 'Location40324', "Unrecognized pipeline stage name: '$nope'"],
      [{ create: 'bad', viewOn: 'src', pipeline: [{ $match: {}, $skip: 1 }] }, 40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.'],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $match: {} }, { $out: 'x' }] },
        167,
        'OptionNotSupportedOnView',
        'Invalid pipeline for view test.bad :: caused by :: The aggregation stage $out in location 1 of the pipeline cannot be used in the view definition of test.bad because it writes to disk',
      ],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $count: 'n' }, { $merge: { into: 'x' } }] },
        167,
        'OptionNotSupportedOnView',
        'Invalid pipeline for view test.bad :: caused by :: The aggregation stage $merge in location 2 of the pipeline cannot be used in the view definition of test.bad because it writes to disk',
      ],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $changeStream: {} }] },
        40573,
        'Location40573',
        'Invalid pipeline for view test.bad :: caused by :: The $changeStream stage is only supported on replica sets',
      ],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $documents: [{ a: 1 }] }] },
        73,
        'InvalidNamespace',
        "Invalid pipeline for view test.bad :: caused by :: '$documents' cannot be used in a view definition",
      ],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $match: {} }, { $collStats: {} }] },
        40602,
        'Location40602',
        'Invalid pipeline for view test.bad :: caused by :: $collStats is only valid as the first stage in a pipeline.',
      ],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $addFields: { a: { $nope: 1 } } }] },
        168,
        'InvalidPipelineOperator',
        "Invalid pipeline for view test.bad :: caused by :: Invalid $addFields :: caused by :: Unrecognized expression '$nope'",
      ],
      [{ create: 'bad', viewOn: 'src', pipeline: { $match: {} } }, 14, 'TypeMismatch', "BSON field 'create.pipeline' is the wrong type 'object', expected type 'array'"],
      [{ create: 'bad', viewOn: 'src', pipeline: [1] }, 14, 'TypeMismatch', "BSON field 'create.pipeline.0' is the wrong type 'int', expected type 'object'"],
      [{ create: 'bad', viewOn: 5, pipeline: [] }, 14, 'TypeMismatch', "BSON field 'create.viewOn' is the wrong type 'int', expected type 'string'"],
      [{ create: 'bad', viewOn: 'a$b', pipeline: [] }, 73, 'InvalidNamespace', "invalid name for 'viewOn': a$b"],
      [{ create: 'bad', viewOn: 'bad', pipeline: [] }, 5, 'GraphContainsCycle', 'View cycle detected: test.bad => test.bad => test.bad'],
      [{ create: 'v1', viewOn: 'src' }, 48, 'NamespaceExists', 'A view already exists. NS: test.v1'],
      [{ create: 'src', viewOn: 'other' }, 48, 'NamespaceExists', 'Collection test.src already exists.'],
      [{ create: 'system.x', viewOn: 'src' }, 73, 'InvalidNamespace', "View name cannot start with 'system.', which is reserved for system namespaces"],
      [{ create: 'bad', viewOn: 'fr', pipeline: [] }, 167, 'OptionNotSupportedOnView', 'View test.bad has conflicting collation with view test.fr'],
      [
        { create: 'bad', viewOn: 'src', pipeline: [{ $lookup: { from: 'fr', localField: 'a', foreignField: 'a', as: 'm' } }] },
        167,
        'OptionNotSupportedOnView',
        'View test.bad has conflicting collation with view test.fr',
      ],
      [{ create: 'bad', viewOn: 'src', idIndex: { key: { _id: 1 }, name: '_id_' } }, 72, 'InvalidOptions', "'idIndex' is not allowed with 'viewOn': { key: { _id: 1 }, name: \"_id_\" }"],
      [{ create: 'bad', viewOn: 'src', changeStreamPreAndPostImages: { enabled: true } }, 72, 'InvalidOptions', 'option not supported on a view: changeStreamPreAndPostImages'],
      [{ create: 'bad', viewOn: 'src', collation: { locale: 'xx_nope' } }, 2, 'BadValue', "Field 'locale' is invalid in: { locale: \"xx_nope\" }"],
    ];
    for (const [body, code, codeName, errmsg] of cases) expectError(await run(body), code, codeName, errmsg);
    // Nothing was made by a refused create.
    expect((await ok({ listCollections: 1, filter: { name: 'bad' } })).cursor.firstBatch).toEqual([]);
  });

  test('views over views: at most 20 in a chain (ViewDepthLimitExceeded)', async () => {
    const { run, ok } = await seeded();
    let under = 'src';
    for (let i = 1; i <= 20; i++) {
      await ok({ create: `d${i}`, viewOn: under, pipeline: [] });
      under = `d${i}`;
    }
    expectError(await run({ create: 'd21', viewOn: 'd20', pipeline: [] }), 165, 'ViewDepthLimitExceeded', 'View depth limit exceeded; maximum depth is 20');
    expect((await run({ count: 'd19' })).n).toEqual(new Int32(10));
    // resolveView looks up at most 20 namespaces: the 20th view's collection is one too many.
    expectError(await run({ count: 'd20' }), 165, 'ViewDepthLimitExceeded', 'View depth too deep or view cycle detected; maximum depth is 20');
  });

  test('a view over a collection that does not exist yet is empty; an empty viewOn makes a collection (CollectionOptions::isView)', async () => {
    const { ok, batch } = await seeded();
    await ok({ create: 'later', viewOn: 'nosuch', pipeline: [] });
    expect(await batch({ find: 'later' })).toEqual([]);
    await ok({ create: 'plain', viewOn: '', pipeline: [] });
    const [plainEntry] = await batch({ listCollections: 1, filter: { name: 'plain' } });
    expect(plainEntry!.type).toBe('collection');
  });
});

describe('listCollections, drop, dbStats', () => {
  test('views are listed after the collections, with their options and readOnly info; system.views is a collection', async () => {
    const { batch } = await seeded();
    const listed = await batch({ listCollections: 1 });
    expect(listed.map((c) => [c.name, c.type])).toEqual([
      ['other', 'collection'],
      ['src', 'collection'],
      ['system.views', 'collection'],
      ['v1', 'view'],
      ['v4', 'view'],
    ]);
    expect(listed[3]).toEqual({ name: 'v1', type: 'view', options: { viewOn: 'src', pipeline: [{ $match: { g: 1 } }] }, info: { readOnly: true } });
    expect(await batch({ listCollections: 1, nameOnly: true, filter: { type: 'view' } })).toEqual([
      { name: 'v1', type: 'view' },
      { name: 'v4', type: 'view' },
    ]);
  });

  test('drop of a view answers its ns only; dropping system.views drops every view; dbStats counts views', async () => {
    const { ok, batch } = await seeded();
    expect((await ok({ dbStats: 1 })).views).toEqual(new Int32(2));
    expect(plain(await ok({ drop: 'v4' }))).toEqual({ ns: 'test.v4', ok: 1 });
    expect(ids(await batch({ find: 'system.views' }))).toEqual(['test.v1']);
    await ok({ drop: 'system.views' });
    expect((await batch({ listCollections: 1, nameOnly: true })).map((c) => c.name)).toEqual(['other', 'src']);
    expect(await batch({ find: 'v1' })).toEqual([]);
  });
});

describe('collMod of a view', () => {
  test('pipeline and viewOn each replace their half; an empty viewOn keeps the old one', async () => {
    const { ok, batch } = await seeded();
    await ok({ collMod: 'v1', pipeline: [{ $match: { g: 2 } }] });
    expect(ids(await batch({ find: 'v1' }))).toEqual([2, 5, 8]);
    await ok({ collMod: 'v1', viewOn: 'other' });
    expect(ids(await batch({ find: 'v1' }))).toEqual([2]);
    await ok({ collMod: 'v1', viewOn: '', pipeline: [{ $match: { g: 0 } }] });
    expect((await batch({ listCollections: 1, filter: { name: 'v1' } }))[0]!.options).toEqual({ viewOn: 'other', pipeline: [{ $match: { g: 0 } }] });
  });

  test("refusals: view options on a collection, collection options on a view, cycles, bad pipelines", async () => {
    const { run, batch } = await seeded();
    const cases: Array<[Document, number, string, string]> = [
      [{ collMod: 'src', viewOn: 'other', pipeline: [] }, 72, 'InvalidOptions', 'option only supported on a view: pipeline'],
      [{ collMod: 'src', viewOn: 'other' }, 72, 'InvalidOptions', 'option only supported on a view: viewOn'],
      [{ collMod: 'v1', validator: { a: 1 } }, 72, 'InvalidOptions', 'option not supported on a view: validator'],
      [{ collMod: 'v1', validationLevel: 'off' }, 72, 'InvalidOptions', 'option not supported on a view: validationLevel'],
      [{ collMod: 'v1', index: { name: 'x', hidden: true } }, 72, 'InvalidOptions', 'option not supported on a view: index'],
      [{ collMod: 'v1', expireAfterSeconds: 5 }, 72, 'InvalidOptions', 'option not supported on a view: expireAfterSeconds'],
      [{ collMod: 'v1', viewOn: 'v4', pipeline: [] }, 5, 'GraphContainsCycle', 'View cycle detected: test.v1 => test.v1 => test.v4 => test.v1'],
      [{ collMod: 'v1', pipeline: [{ $lookup: { from: 'v4', pipeline: [], as: 'x' } }] }, 5, 'GraphContainsCycle', 'View cycle detected: test.v1 => test.v1 => test.v4 => test.v1'],
      [{ collMod: 'v1', viewOn: 'src', pipeline: [{ $nope: 1 }] }, 40324, 'Location40324', "Unrecognized pipeline stage name: '$nope'"],
      [
        { collMod: 'v1', viewOn: 'src', pipeline: [{ $out: 'x' }] },
        167,
        'OptionNotSupportedOnView',
        'Invalid pipeline for view test.v1 :: caused by :: The aggregation stage $out in location 0 of the pipeline cannot be used in the view definition of test.v1 because it writes to disk',
      ],
      [{ collMod: 'v1', viewOn: 'src', pipeline: { a: 1 } }, 14, 'TypeMismatch', "BSON field 'collMod.pipeline' is the wrong type 'object', expected type 'array'"],
    ];
    for (const [body, code, codeName, errmsg] of cases) expectError(await run(body), code, codeName, errmsg);
    expect(ids(await batch({ find: 'v1' }))).toEqual([1, 4, 7]);
  });
});

describe('reads through a view', () => {
  test('find: filter, sort, skip, limit and projection after the view pipeline; the cursor is named by the view', async () => {
    const { ok, batch } = await seeded();
    expect(ids(await batch({ find: 'v1' }))).toEqual([1, 4, 7]);
    const reply = plain(await ok({ find: 'v4', filter: { v: { $gt: 10 } }, sort: { v: -1 }, skip: 1, limit: 5, projection: { _id: 1 } }));
    expect(reply.cursor).toEqual({ firstBatch: [{ _id: 4 }], id: 0, ns: 'test.v4' });
  });

  test('find in batches: getMore continues the view cursor', async () => {
    const { ok } = await seeded();
    const first = await ok({ find: 'v1', batchSize: 2 });
    expect(ids(plain(first).cursor.firstBatch)).toEqual([1, 4]);
    const more = plain(await ok({ getMore: first.cursor.id as Long, collection: 'v1' }));
    expect(more.cursor.nextBatch).toEqual([{ _id: 7, g: 1, v: 70 }]);
    expect(more.cursor.ns).toBe('test.v1');
  });

  test('find options aggregation lacks: 168, as query_request_conversion.cpp refuses them', async () => {
    const { run } = await seeded();
    const cases: Array<[Document, string]> = [
      [{ find: 'v1', tailable: true }, 'Tailable cursors are not supported in aggregation.'],
      [{ find: 'v1', sort: { $natural: -1 } }, 'Sort option $natural not supported in aggregation.'],
      [{ find: 'v1', singleBatch: true }, 'Option singleBatch not supported in aggregation.'],
      [{ find: 'v1', returnKey: true }, 'Option returnKey not supported in aggregation.'],
      [{ find: 'v1', min: { a: 1 } }, 'Option min not supported in aggregation.'],
      [{ find: 'v1', noCursorTimeout: true }, 'Option noCursorTimeout not supported in aggregation.'],
    ];
    for (const [body, errmsg] of cases) expectError(await run(body), 168, 'InvalidPipelineOperator', errmsg);
    // findOne's limit 1 with singleBatch is allowed.
    expectOk(await run({ find: 'v1', limit: 1, singleBatch: true }));
  });

  test("count and distinct answer as ViewResponseFormatter does: ok is an int32", async () => {
    const { run, ok } = await seeded();
    expect(plain(await ok({ count: 'src' }))).toEqual({ n: 10, ok: 1 });
    expect(await run({ count: 'v1', query: { v: { $gte: 40 } } })).toEqual({ n: new Int32(2), ok: new Int32(1) });
    expect(await run({ count: 'v1', skip: 1, limit: 1 })).toEqual({ n: new Int32(1), ok: new Int32(1) });
    expect(await run({ count: 'v1', query: { g: 5 } })).toEqual({ n: new Int32(0), ok: new Int32(1) });
    const distinct = await run({ distinct: 'v1', key: 'v' });
    expect(distinct.ok).toEqual(new Int32(1));
    expect((distinct.values as Int32[]).map(Number).sort((a, b) => a - b)).toEqual([10, 40, 70]);
    expect(await run({ distinct: 'v4', key: 'nosuch' })).toEqual({ values: [], ok: new Int32(1) });
  });

  test('aggregate: the view pipeline first, then the user pipeline; $lookup, $graphLookup and $unionWith read views', async () => {
    const { batch } = await seeded();
    expect(await batch({ aggregate: 'v4', pipeline: [{ $group: { _id: null, total: { $sum: '$v' } } }], cursor: {} })).toEqual([{ _id: null, total: 120 }]);
    const sizes = (docs: Document[]): unknown[] => docs.map((d) => d.n);
    expect(
      sizes(await batch({ aggregate: 'other', pipeline: [{ $lookup: { from: 'v1', localField: 'g', foreignField: 'g', as: 'm' } }, { $project: { n: { $size: '$m' } } }], cursor: {} })),
    ).toEqual([0, 3, 0]);
    expect(
      sizes(
        await batch({
          aggregate: 'other',
          pipeline: [
            { $graphLookup: { from: 'v4', startWith: '$g', connectFromField: 'g', connectToField: 'g', as: 'm', maxDepth: 0 } },
            { $project: { n: { $size: '$m' } } },
          ],
          cursor: {},
        }),
      ),
    ).toEqual([0, 3, 0]);
    expect(await batch({ aggregate: 'other', pipeline: [{ $unionWith: 'v1' }, { $count: 'n' }], cursor: {} })).toEqual([{ n: 6 }]);
  });

  test("a view's collation applies to its reads; another one is refused (167)", async () => {
    const { run, ok, batch } = await seeded();
    await ok({ insert: 'words', documents: [{ _id: 1, w: 'b' }, { _id: 2, w: 'A' }, { _id: 3, w: 'a' }] });
    await ok({ create: 'ci', viewOn: 'words', pipeline: [], collation: { locale: 'en', strength: 2 } });
    expect(ids(await batch({ find: 'ci', filter: { w: 'a' }, sort: { _id: 1 } }))).toEqual([2, 3]);
    expect(ids(await batch({ find: 'ci', collation: { locale: 'en', strength: 2 }, filter: { w: 'a' } }))).toEqual([2, 3]);
    expectError(await run({ find: 'ci', collation: { locale: 'fr' } }), 167, 'OptionNotSupportedOnView', "Cannot override a view's default collation");
    expectError(await run({ aggregate: 'ci', pipeline: [], collation: { locale: 'simple' }, cursor: {} }), 167, 'OptionNotSupportedOnView', "Cannot override a view's default collation");
    expectError(
      await run({ aggregate: 'other', pipeline: [{ $lookup: { from: 'ci', localField: 'g', foreignField: 'w', as: 'm' } }], cursor: {} }),
      167,
      'OptionNotSupportedOnView',
      "Cannot override a view's default collationtest.ci",
    );
    expect(ids(await batch({ aggregate: 'other', pipeline: [{ $lookup: { from: 'ci', localField: 'g', foreignField: 'w', as: 'm' } }], collation: { locale: 'en', strength: 2 }, cursor: {} }))).toEqual([0, 1, 2]);
  });

  test('explain on a view is the explain of the aggregate on the collection under it', async () => {
    const { ok } = await seeded();
    const explained = plain(await ok({ explain: { find: 'v1', filter: { v: 40 } }, verbosity: 'queryPlanner' }));
    const stages = explained.stages as Document[];
    expect(Object.keys(stages[0]!)).toEqual(['$cursor']);
    expect(stages[0]!.$cursor.queryPlanner.namespace).toBe('test.src');
    expect(stages[0]!.$cursor.queryPlanner.parsedQuery).toEqual({ $and: [{ g: { $eq: 1 } }, { v: { $eq: 40 } }] });
    const counted = await ok({ explain: { count: 'v4' }, verbosity: 'executionStats' });
    expect((counted.stages as Document[]).map((s) => Object.keys(s)[0])).toEqual(['$cursor', '$project', '$count']);
  });
});

describe('writes and collection commands on a view', () => {
  test('writes: one 166 write error per statement (the first alone when ordered); nothing is written', async () => {
    const { server, client, run, batch } = await seeded();
    const refused = 'Namespace test.v1 is a view, not a collection';
    const cases: Array<[Document, number]> = [
      [{ insert: 'v1', documents: [{ _id: 100 }, { _id: 101 }] }, 1],
      [{ insert: 'v1', documents: [{ _id: 100 }, { _id: 101 }], ordered: false }, 2],
      [{ update: 'v1', updates: [{ q: {}, u: { $set: { a: 1 } }, upsert: true }] }, 1],
      [{ delete: 'v1', ordered: false, deletes: [{ q: {}, limit: 1 }, { q: {}, limit: 0 }] }, 2],
    ];
    for (const [body, reported] of cases) {
      const reply = plain(expectOk(await run(body)));
      expect(reply.n).toBe(0);
      expect(reply.writeErrors).toEqual(Array.from({ length: reported }, (_, index) => ({ index, code: 166, errmsg: refused })));
    }
    const commands: Array<[Document, string]> = [
      [{ findAndModify: 'v1', query: {}, remove: true }, refused],
      [{ createIndexes: 'v1', indexes: [{ key: { v: 1 }, name: 'v_1' }] }, refused],
      [{ listIndexes: 'v1' }, refused],
      [{ dropIndexes: 'v1', index: '*' }, refused],
      [{ collStats: 'v1' }, refused],
      [{ validate: 'v1' }, 'Cannot validate a view'],
      [{ aggregate: 'other', pipeline: [{ $out: 'v1' }], cursor: {} }, `PlanExecutor error during aggregation :: caused by :: ${refused}`],
      [{ aggregate: 'other', pipeline: [{ $merge: { into: 'v1' } }], cursor: {} }, `PlanExecutor error during aggregation :: caused by :: ${refused}`],
      [{ aggregate: 'v1', pipeline: [{ $collStats: { count: {} } }], cursor: {} }, `PlanExecutor error during aggregation :: caused by :: ${refused}`],
      [{ explain: { delete: 'v1', deletes: [{ q: {}, limit: 1 }] } }, refused],
    ];
    for (const [body, errmsg] of commands) expectError(await run(body), 166, 'CommandNotSupportedOnView', errmsg);
    const rename = (from: string, to: string): Promise<Document> => server.run(client, { renameCollection: from, to, $db: 'admin' });
    expectError(await rename('test.v1', 'test.v9'), 166, 'CommandNotSupportedOnView', 'cannot rename view: test.v1');
    expectError(await rename('test.other', 'test.v1'), 48, 'NamespaceExists', 'a view already exists with that name: test.v1');
    expect(ids(await batch({ find: 'v1' }))).toEqual([1, 4, 7]);
    expect(ids(await batch({ find: 'src' }))).toHaveLength(10);
    expect((await batch({ listCollections: 1, nameOnly: true })).map((c) => c.name)).toEqual(['other', 'src', 'system.views', 'v1', 'v4']);
  });

  test('system.views changes only through create, collMod and drop (115 for a direct write)', async () => {
    const { run } = await seeded();
    const reply = plain(expectOk(await run({ insert: 'system.views', documents: [{ _id: 'test.x', viewOn: 'src', pipeline: [] }] })));
    expect(reply.writeErrors[0].code).toBe(115);
  });
});

describe('the view catalog (storage) and the definition checks (pipeline)', () => {
  test('resolve: the pipelines of the chain, innermost first, the outermost collation', () => {
    const views = new ViewCatalog(new Catalog());
    views.create({ db: 'd', name: 'a', viewOn: 'c', pipeline: [{ $match: { x: 1 } }] }, involvedCollections);
    views.create({ db: 'd', name: 'b', viewOn: 'a', pipeline: [{ $skip: 1 }] }, involvedCollections);
    expect(views.resolve('d', 'b')).toEqual({ collection: 'c', pipeline: [{ $match: { x: 1 } }, { $skip: 1 }] });
    expect(views.resolve('d', 'c')).toBeUndefined();
  });

  test('involvedCollections: $lookup, $graphLookup, $unionWith at any depth, not $documents sub-pipelines', () => {
    expect(
      involvedCollections([
        { $lookup: { from: 'a', pipeline: [{ $unionWith: { coll: 'b', pipeline: [] } }], as: 'x' } },
        { $facet: { f: [{ $graphLookup: { from: 'c' } }] } },
        { $unionWith: { pipeline: [{ $documents: [] }] } },
        { $unionWith: 'a' },
      ]),
    ).toEqual(['a', 'b', 'c']);
  });

  test('checkViewPipeline: the lite parse errors are as they are, the others in the view context', () => {
    expect(mongoError(() => checkViewPipeline('d', 'v', 'c', [{ $nope: {} }]))).toEqual({ code: 40324, message: "Unrecognized pipeline stage name: '$nope'" });
    expect(mongoError(() => checkViewPipeline('d', 'v', 'c', [{ $currentOp: {} }]))).toEqual({
      code: 73,
      message: "Invalid pipeline for view d.v :: caused by :: $currentOp must be run against the 'admin' database with {aggregate: 1}",
    });
    expect(() => checkViewPipeline('config', 'v', 'system.sessions', [{ $listSessions: {} }])).not.toThrow();
  });
});
