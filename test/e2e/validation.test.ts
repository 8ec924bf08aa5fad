/**
 * End-to-end: document validation through the official driver (mongod 7.0: create and collMod
 * with validator / validationLevel / validationAction, DocumentValidationFailure 121 with its
 * errInfo on insert, update, upsert, findAndModify and $out/$merge, bypassDocumentValidation and
 * its privilege, listCollections' options, $jsonSchema as a query operator).
 */
import { Int32, MongoServerError, type Document } from 'mongodb';
import { describe, expect, test } from 'vitest';
import { expectErrorReply, expectServerError, openDriver, serverError, useDriver, type NumberedDoc } from '../helpers/driver.js';

const t = useDriver('validation');

const STUDENT = {
  $jsonSchema: {
    bsonType: 'object',
    title: 'Student Object Validation',
    required: ['name', 'year'],
    properties: {
      name: { bsonType: 'string', description: "'name' must be a string and is required" },
      year: { bsonType: 'int', minimum: 2017, maximum: 3017 },
    },
  },
};

async function fresh(name: string, options: Document = {}) {
  await t.db.collection(name).drop();
  await t.db.createCollection(name, options);
  return t.db.collection<NumberedDoc>(name);
}

/** The reply of a raw command (numbers as the server typed them). */
function raw(command: Document): Promise<Document> {
  return t.db.command(command, { promoteValues: false });
}

describe('create with a validator; inserts', () => {
  test('a missing required field: the write error carries errInfo (index, code, errInfo, errmsg)', async () => {
    await fresh('students', { validator: STUDENT });
    const reply = await raw({ insert: 'students', documents: [{ _id: 1, year: new Int32(2020) }] });
    expect(reply.n).toEqual(new Int32(0));
    const [error] = reply.writeErrors as Document[];
    expect(Object.keys(error!)).toEqual(['index', 'code', 'errInfo', 'errmsg']);
    expect(error).toEqual({
      index: new Int32(0),
      code: new Int32(121),
      errmsg: 'Document failed validation',
      errInfo: {
        failingDocumentId: new Int32(1),
        details: {
          operatorName: '$jsonSchema',
          title: 'Student Object Validation',
          schemaRulesNotSatisfied: [{ operatorName: 'required', specifiedAs: { required: ['name', 'year'] }, missingProperties: ['name'] }],
        },
      },
    });
    expect(await t.db.collection('students').countDocuments()).toBe(0);
  });

  test('a bsonType mismatch, through insertOne', async () => {
    const c = await fresh('typed', { validator: STUDENT });
    const err = await expectServerError(c.insertOne({ _id: 1, name: 'a', year: 2020.5 }), 121, undefined, 'Document failed validation');
    expect(err.errInfo).toEqual({
      failingDocumentId: 1,
      details: {
        operatorName: '$jsonSchema',
        title: 'Student Object Validation',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [
              {
                propertyName: 'year',
                details: [{ operatorName: 'bsonType', specifiedAs: { bsonType: 'int' }, reason: 'type did not match', consideredValue: 2020.5, consideredType: 'double' }],
              },
            ],
          },
        ],
      },
    });
    await c.insertOne({ _id: 2, name: 'b', year: 2020 });
    expect(await c.countDocuments()).toBe(1);
  });

  test('a query-operator validator: a failing $gt clause; an unordered batch keeps the good documents', async () => {
    const c = await fresh('ops', { validator: { qty: { $gt: 0 }, name: { $type: 'string' } } });
    const err = await serverError(c.insertMany([{ _id: 1, qty: 5, name: 'a' }, { _id: 2, qty: -1, name: 'b' }, { _id: 3, qty: 1, name: 'c' }], { ordered: false }));
    expect(err.code).toBe(121);
    expect((err as MongoServerError & { writeErrors: Array<{ index: number; errInfo: Document }> }).writeErrors.map((e) => [e.index, e.errInfo])).toEqual([
      [
        1,
        {
          failingDocumentId: 2,
          details: {
            operatorName: '$and',
            clausesNotSatisfied: [{ index: 0, details: { operatorName: '$gt', specifiedAs: { qty: { $gt: 0 } }, reason: 'comparison failed', consideredValue: -1 } }],
          },
        },
      ],
    ]);
    expect((await c.find().toArray()).map((d) => d._id)).toEqual([1, 3]);
  });

  test('$expr validators report the expression result', async () => {
    const c = await fresh('orders', { validator: { $expr: { $eq: ['$total', { $add: ['$subtotal', '$tax'] }] } } });
    await c.insertOne({ _id: 1, total: 10, subtotal: 8, tax: 2 });
    const err = await expectServerError(c.insertOne({ _id: 2, total: 10, subtotal: 8, tax: 1 }), 121);
    expect(err.errInfo!.details).toEqual({
      operatorName: '$expr',
      specifiedAs: { $expr: { $eq: ['$total', { $add: ['$subtotal', '$tax'] }] } },
      reason: 'expression did not match',
      expressionResult: false,
    });
  });
});

describe('updates', () => {
  test('update, upsert, a pipeline update and findAndModify are validated', async () => {
    const c = await fresh('upd', { validator: { qty: { $gte: 0 } } });
    await c.insertOne({ _id: 1, qty: 1 });
    const err = await expectServerError(c.updateOne({ _id: 1 }, { $inc: { qty: -5 } }), 121, undefined, 'Document failed validation');
    expect(err.errInfo).toEqual({
      failingDocumentId: 1,
      details: { operatorName: '$gte', specifiedAs: { qty: { $gte: 0 } }, reason: 'comparison failed', consideredValue: -4 },
    });
    const reply = await raw({ update: 'upd', updates: [{ q: { _id: 1 }, u: { $set: { qty: -3 } } }] });
    expect(Object.keys(reply)).toEqual(['n', 'nModified', 'writeErrors', 'ok']);
    expect([reply.n, reply.nModified, (reply.writeErrors as Document[])[0]!.code]).toEqual([new Int32(0), new Int32(0), new Int32(121)]);
    await expectServerError(c.updateOne({ _id: 2 }, { $set: { qty: -1 } }, { upsert: true }), 121);
    await expectServerError(c.updateOne({ _id: 1 }, [{ $set: { qty: { $subtract: ['$qty', 3] } } }]), 121);
    // A no-op update writes nothing, so nothing is validated.
    expect((await c.updateOne({ _id: 1 }, { $set: { qty: 1 } })).modifiedCount).toBe(0);
    expect(await c.find().toArray()).toEqual([{ _id: 1, qty: 1 }]);
  });

  test('findAndModify: the command fails with errInfo after errmsg, code and codeName', async () => {
    const c = await fresh('fam', { validator: { qty: { $gte: 0 } } });
    await c.insertOne({ _id: 1, qty: 1 });
    const err = await serverError(c.findOneAndUpdate({ _id: 1 }, { $set: { qty: -1 } }));
    expect(Object.keys(err.errorResponse)).toEqual(['ok', 'errmsg', 'code', 'codeName', 'errInfo']);
    expect(err.errorResponse).toMatchObject({ ok: 0, errmsg: 'Document failed validation', code: 121, codeName: 'DocumentValidationFailure' });
    expect(err.errInfo).toEqual({ failingDocumentId: 1, details: { operatorName: '$gte', specifiedAs: { qty: { $gte: 0 } }, reason: 'comparison failed', consideredValue: -1 } });
    await expectServerError(c.findOneAndUpdate({ _id: 5 }, { $set: { qty: -1 } }, { upsert: true }), 121);
    expect(await c.findOneAndUpdate({ _id: 1 }, { $set: { qty: -1 } }, { bypassDocumentValidation: true, returnDocument: 'after' })).toEqual({ _id: 1, qty: -1 });
  });

  test('validationLevel moderate: documents that already failed may stay failing; strict refuses', async () => {
    const c = await fresh('moderate', { validator: { qty: { $gte: 0 } }, validationLevel: 'moderate' });
    await c.insertOne({ _id: 1, qty: -1 }, { bypassDocumentValidation: true });
    await c.insertOne({ _id: 2, qty: 1 });
    await c.updateOne({ _id: 1 }, { $set: { note: 'still invalid' } });
    await expectServerError(c.updateOne({ _id: 2 }, { $set: { qty: -2 } }), 121);
    await expectServerError(c.insertOne({ _id: 3, qty: -3 }), 121);
    await t.db.command({ collMod: 'moderate', validationLevel: 'strict' });
    await expectServerError(c.updateOne({ _id: 1 }, { $set: { note: 'again' } }), 121);
  });

  test('validationLevel off checks nothing', async () => {
    const c = await fresh('off', { validator: { qty: { $gte: 0 } }, validationLevel: 'off' });
    await c.insertOne({ _id: 1, qty: -1 });
    expect(await c.countDocuments()).toBe(1);
  });

  test('validationAction warn: the write succeeds and mongod logs warning 20294 with the errInfo', async () => {
    const c = await fresh('warned', { validator: { qty: { $gte: 0 } }, validationAction: 'warn' });
    await c.insertOne({ _id: 7, qty: -1 });
    expect(await c.countDocuments()).toBe(1);
    const log = (await t.client.db('admin').command({ getLog: 'global' })).log as string[];
    const line = log.map((l) => JSON.parse(l) as Document).find((l) => l.id === 20294 && l.attr?.namespace === 'validation.warned');
    expect(line).toMatchObject({ s: 'W', c: 'STORAGE', msg: 'Document would fail validation', attr: { errInfo: { failingDocumentId: 7 } } });
  });
});

describe('bypassDocumentValidation', () => {
  test('insert, update and aggregate skip the validator with it', async () => {
    const c = await fresh('bypass', { validator: { qty: { $gte: 0 } } });
    await c.insertOne({ _id: 1, qty: -1 }, { bypassDocumentValidation: true });
    await c.updateOne({ _id: 1 }, { $set: { qty: -2 } }, { bypassDocumentValidation: true });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, qty: -2 });
  });

  test('$out and $merge targets are validated unless the aggregate bypasses', async () => {
    const source = await fresh('src');
    await source.insertMany([{ _id: 1, qty: 1 }, { _id: 2, qty: -1 }]);
    const target = await fresh('outTarget', { validator: { qty: { $gte: 0 } } });
    await target.insertOne({ _id: 9, qty: 9 });
    const err = await expectServerError(source.aggregate([{ $out: 'outTarget' }]).toArray(), 121, 'DocumentValidationFailure', 'Document failed validation');
    expect(err.errInfo).toEqual({ failingDocumentId: 2, details: { operatorName: '$gte', specifiedAs: { qty: { $gte: 0 } }, reason: 'comparison failed', consideredValue: -1 } });
    expect(await target.find().toArray()).toEqual([{ _id: 9, qty: 9 }]);
    await source.aggregate([{ $out: 'outTarget' }], { bypassDocumentValidation: true }).toArray();
    expect(await target.countDocuments()).toBe(2);

    const merged = await fresh('mergeTarget', { validator: { qty: { $gte: 0 } } });
    await expectServerError(source.aggregate([{ $merge: { into: 'mergeTarget' } }]).toArray(), 121);
    expect(await merged.find().toArray()).toEqual([{ _id: 1, qty: 1 }]);
    await source.aggregate([{ $merge: { into: 'mergeTarget' } }], { bypassDocumentValidation: true }).toArray();
    expect(await merged.countDocuments()).toBe(2);
  });
});

describe('collMod and listCollections', () => {
  test('collMod sets the validator, level and action; listCollections shows them in mongod order', async () => {
    const c = await fresh('modded');
    await c.insertOne({ _id: 1, qty: -1 });
    expect(await t.db.command({ collMod: 'modded', validator: { qty: { $gte: 0 } }, validationLevel: 'moderate', validationAction: 'error' })).toEqual({ ok: 1 });
    await expectServerError(c.insertOne({ _id: 2, qty: -1 }), 121);
    const [info] = await t.db.listCollections({ name: 'modded' }, { nameOnly: false }).toArray();
    expect(info!.options).toEqual({ validator: { qty: { $gte: 0 } }, validationLevel: 'moderate', validationAction: 'error' });
    expect(Object.keys(info!.options!)).toEqual(['validator', 'validationLevel', 'validationAction']);
    // An empty validator removes validation.
    await t.db.command({ collMod: 'modded', validator: {} });
    await c.insertOne({ _id: 2, qty: -1 });
    expect((await t.db.listCollections({ name: 'modded' }, { nameOnly: false }).toArray())[0]!.options).toEqual({ validationLevel: 'moderate', validationAction: 'error' });
  });

  test("collMod's errors", async () => {
    await fresh('errs');
    await expectErrorReply(t.db.command({ collMod: 'nothere', validator: { a: 1 } }), 26, 'NamespaceNotFound', 'ns does not exist');
    await expectErrorReply(
      t.db.command({ collMod: 'errs', validator: { $where: 'true' } }),
      2,
      'BadValue',
      'Parsing of collection validator failed :: caused by :: $where is not allowed in this context',
    );
    await expectErrorReply(t.db.command({ collMod: 'errs', validationLevel: 'loose' }), 2, 'BadValue', "Enumeration value 'loose' for field 'collMod.validationLevel' is not a valid value.");
    await expectErrorReply(t.db.command({ collMod: 'errs', viewOn: 'x' }), 72, 'InvalidOptions', 'option only supported on a view: viewOn');
    await expectErrorReply(t.db.command({ collMod: 'errs', bogus: 1 }), 40415, 'Location40415', "BSON field 'collMod.bogus' is an unknown field.");
    await expectErrorReply(
      t.db.command({ collMod: 'errs', index: { name: 'a_1', hidden: true } }),
      115,
      'CommandNotSupported',
      "pocketmongo does not support index changes with collMod yet (collMod option 'index')",
    );
  });

  test("create's validator errors are the parser's own", async () => {
    await expectErrorReply(t.db.command({ create: 'w', validator: { $where: 'true' } }), 2, 'BadValue', '$where is not allowed in this context');
    await expectErrorReply(t.db.command({ create: 'w', validator: { $text: { $search: 'x' } } }), 2, 'BadValue', '$text is not allowed in this context');
    await expectErrorReply(
      t.db.command({ create: 'w', validator: { loc: { $near: [0, 0] } } }),
      5626500,
      'Location5626500',
      '$geoNear, $near, and $nearSphere are not allowed in this context',
    );
    await expectErrorReply(t.db.command({ create: 'w', validator: { $jsonSchema: { bsonType: 'number', foo: 1 } } }), 9, 'FailedToParse', 'Unknown $jsonSchema keyword: foo');
    await expectErrorReply(t.db.command({ create: 'w', validator: 5 }), 14, 'TypeMismatch', "BSON field 'create.validator' is the wrong type 'int', expected type 'object'");
    await expectErrorReply(t.db.command({ create: 'w', validationAction: 'loud' }), 2, 'BadValue', "Enumeration value 'loud' for field 'create.validationAction' is not a valid value.");
    await expectErrorReply(
      t.db.command({ create: 'w', validator: { $jsonSchema: { properties: { s: { encrypt: {} } } } }, validationAction: 'warn' }),
      224,
      'QueryFeatureNotAllowed',
      'Encryption-related validator keywords are not allowed in this context',
    );
    const internal = await serverError(t.client.db('local').command({ create: 'w', validator: { a: 1 } }));
    expect(internal.code).toBe(72);
    expect(internal.errmsg).toMatch(/^Document validators are not allowed on collection local\.w with UUID [0-9a-f-]{36} in the local internal database$/);
    expect((await t.db.listCollections({ name: 'w' }).toArray()).length).toBe(0);
  });
});

describe('$jsonSchema as a query operator', () => {
  test('find and aggregate $match select the documents the schema accepts', async () => {
    const c = await fresh('query');
    await c.insertMany([{ _id: 1, name: 'a', year: new Int32(2020) }, { _id: 2, name: 'b', year: 1999 }, { _id: 3, year: new Int32(2018) }]);
    expect((await c.find(STUDENT).toArray()).map((d) => d._id)).toEqual([1]);
    expect((await c.aggregate([{ $match: { $nor: [STUDENT] } }]).toArray()).map((d) => d._id)).toEqual([2, 3]);
    await expectErrorReply(c.find({ $jsonSchema: { type: 'integer' } }).toArray(), 9, 'FailedToParse', "$jsonSchema type 'integer' is not currently supported.");
  });
});

describe('under auth', () => {
  test('bypassDocumentValidation needs its privilege (dbAdmin has it, readWrite does not)', async () => {
    const d = await openDriver('admin', {
      auth: true,
      users: [{ user: 'admin', pwd: 'secret' }],
      setParameter: { scramIterationCount: '5000', scramSHA256IterationCount: '5000' },
    });
    const root = await d.login('admin', 'secret', 'admin');
    await root.db('v').createCollection('c', { validator: { qty: { $gte: 0 } } });
    await root.db('v').command({ createUser: 'writer', pwd: 'w', roles: ['readWrite'] });
    await root.db('v').command({ createUser: 'dba', pwd: 'd', roles: ['readWrite', 'dbAdmin'] });
    const writer = (await d.login('writer', 'w', 'v')).db('v').collection('c');
    await writer.insertOne({ qty: 1 });
    const denied = await serverError(writer.insertOne({ qty: -1 }, { bypassDocumentValidation: true }));
    expect(denied.code).toBe(13);
    expect(denied.errmsg).toMatch(/^not authorized on v to execute command \{ insert: "c"/);
    const dba = (await d.login('dba', 'd', 'v')).db('v').collection('c');
    await dba.insertOne({ qty: -1 }, { bypassDocumentValidation: true });
    expect(await dba.countDocuments()).toBe(2);
  });
});
