/**
 * $jsonSchema (json_schema_parser.cpp) as a filter and as a collection validator, and the
 * validator's errInfo (doc_validation_error.cpp): evaluation on stored BSON values, mongod's parse
 * errors, and the `details` mongod builds for the common failures.
 */
import { BSON, Decimal128, Double, Int32, Long, type Document } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { compileFilter } from '../../../src/query/match/compile.js';
import { compileValidator } from '../../../src/query/validator.js';

/** A document as the server stores it: round-tripped through BSON with the storage decode options. */
function stored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc, { ignoreUndefined: false }), { promoteValues: false, bsonRegExp: true });
}

function matches(schema: Document, doc: Document): boolean {
  return compileFilter({ $jsonSchema: schema }).matches(stored(doc));
}

function errorOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MongoError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an error');
}

function schemaError(schema: unknown): { code: number; message: string } {
  return errorOf(() => compileFilter({ $jsonSchema: schema }));
}

/** The errInfo.details of a document failing `validator` (the document gets _id 1), as canonical extended JSON (field order counts). */
function details(validator: Document, doc: Document): string {
  const compiled = compileValidator(validator, { encryptKeywordsAllowed: true });
  const d = stored({ _id: 1, ...doc });
  expect(compiled.matches(d)).toBe(false);
  const info = compiled.errorInfo(d);
  expect(Object.keys(info)).toEqual(['failingDocumentId', 'details']);
  expect(info.failingDocumentId).toEqual(new Int32(1));
  return BSON.EJSON.stringify(info.details, { relaxed: false });
}

const ejson = (v: unknown): string => BSON.EJSON.stringify(v, { relaxed: false });

describe('$jsonSchema matching', () => {
  test('bsonType and type: BSON type names, "number", arrays of names; a missing property passes', () => {
    expect(matches({ properties: { a: { bsonType: 'int' } } }, { a: new Int32(1) })).toBe(true);
    expect(matches({ properties: { a: { bsonType: 'int' } } }, { a: new Double(1) })).toBe(false);
    expect(matches({ properties: { a: { bsonType: 'long' } } }, { a: Long.fromNumber(1) })).toBe(true);
    expect(matches({ properties: { a: { bsonType: 'number' } } }, { a: Decimal128.fromString('1') })).toBe(true);
    expect(matches({ properties: { a: { bsonType: ['string', 'null'] } } }, { a: null })).toBe(true);
    expect(matches({ properties: { a: { type: 'boolean' } } }, { a: true })).toBe(true);
    expect(matches({ properties: { a: { type: 'number' } } }, {})).toBe(true);
    // A top-level type other than object matches nothing (only documents are stored).
    expect(matches({ type: 'string' }, { a: 1 })).toBe(false);
    expect(matches({ bsonType: 'object' }, { a: 1 })).toBe(true);
  });

  test('minimum/maximum compare exactly across numeric types and apply to numbers only', () => {
    const big = Long.fromBigInt(9007199254740993n);
    expect(matches({ properties: { a: { maximum: Long.fromBigInt(9007199254740992n) } } }, { a: big })).toBe(false);
    expect(matches({ properties: { a: { maximum: Decimal128.fromString('9007199254740993') } } }, { a: big })).toBe(true);
    expect(matches({ properties: { a: { minimum: 5, exclusiveMinimum: true } } }, { a: new Int32(5) })).toBe(false);
    expect(matches({ properties: { a: { minimum: 5 } } }, { a: new Int32(5) })).toBe(true);
    expect(matches({ properties: { a: { minimum: 5 } } }, { a: 'x' })).toBe(true);
    expect(matches({ properties: { a: { minimum: 5, bsonType: 'string' } } }, { a: 'x' })).toBe(true);
  });

  test('multipleOf in Decimal128 (doubles at 15 digits, as mongod converts them)', () => {
    expect(matches({ properties: { a: { multipleOf: 0.1 } } }, { a: new Double(0.3) })).toBe(true);
    expect(matches({ properties: { a: { multipleOf: 3 } } }, { a: Long.fromBigInt(9007199254740993n) })).toBe(true);
    expect(matches({ properties: { a: { multipleOf: 2 } } }, { a: Long.fromBigInt(9007199254740993n) })).toBe(false);
    expect(matches({ properties: { a: { multipleOf: Decimal128.fromString('0.5') } } }, { a: Decimal128.fromString('2.5') })).toBe(true);
  });

  test('strings: minLength/maxLength count code points; pattern has no flags', () => {
    expect(matches({ properties: { s: { maxLength: 2 } } }, { s: '😀😀' })).toBe(true);
    expect(matches({ properties: { s: { minLength: 3 } } }, { s: '😀😀' })).toBe(false);
    expect(matches({ properties: { s: { pattern: '^a' } } }, { s: 'A' })).toBe(false);
    expect(matches({ properties: { s: { pattern: '^a' } } }, { s: 5 })).toBe(true);
  });

  test('arrays: items (one schema or one per position), additionalItems, min/maxItems, uniqueItems ignoring field order', () => {
    expect(matches({ properties: { a: { items: { bsonType: 'int' } } } }, { a: [new Int32(1), new Int32(2)] })).toBe(true);
    expect(matches({ properties: { a: { items: { bsonType: 'int' } } } }, { a: [new Int32(1), 'x'] })).toBe(false);
    const tuple = { properties: { a: { items: [{ bsonType: 'int' }, { bsonType: 'string' }], additionalItems: false } } };
    expect(matches(tuple, { a: [new Int32(1), 'x'] })).toBe(true);
    expect(matches(tuple, { a: [new Int32(1)] })).toBe(true);
    expect(matches(tuple, { a: [new Int32(1), 'x', 3] })).toBe(false);
    // additionalItems without an array of items adds nothing.
    expect(matches({ properties: { a: { items: {}, additionalItems: false } } }, { a: [1, 2] })).toBe(true);
    expect(matches({ properties: { a: { minItems: 2, maxItems: 3 } } }, { a: [1] })).toBe(false);
    expect(matches({ properties: { a: { uniqueItems: true } } }, { a: [{ x: 1, y: 2 }, { y: 2, x: 1 }] })).toBe(false);
    expect(matches({ properties: { a: { uniqueItems: true } } }, { a: [new Int32(1), new Double(1)] })).toBe(false);
    expect(matches({ properties: { a: { uniqueItems: true } } }, { a: [1, '1'] })).toBe(true);
  });

  test('objects: required, properties, additionalProperties, patternProperties, min/maxProperties, dependencies', () => {
    expect(matches({ required: ['a', 'b'] }, { a: 1 })).toBe(false);
    expect(matches({ properties: { o: { required: ['x'] } } }, { o: 5 })).toBe(true);
    expect(matches({ properties: { o: { required: ['x'] } } }, { o: {} })).toBe(false);
    expect(matches({ properties: { _id: {}, a: {} }, additionalProperties: false }, { a: 1 })).toBe(true);
    expect(matches({ properties: { _id: {}, a: {} }, additionalProperties: false }, { b: 1 })).toBe(false);
    expect(matches({ additionalProperties: { bsonType: 'int' } }, { _id: new Int32(1), b: new Int32(2) })).toBe(true);
    expect(matches({ patternProperties: { '^s_': { bsonType: 'string' } } }, { s_a: 'x', t: 1 })).toBe(true);
    expect(matches({ patternProperties: { '^s_': { bsonType: 'string' } } }, { s_a: 1 })).toBe(false);
    expect(matches({ minProperties: 3 }, { a: 1 })).toBe(false);
    expect(matches({ maxProperties: 2 }, { a: 1 })).toBe(true);
    expect(matches({ dependencies: { a: ['b'] } }, { a: 1 })).toBe(false);
    expect(matches({ dependencies: { a: ['b'] } }, { c: 1 })).toBe(true);
    expect(matches({ dependencies: { a: { required: ['c'] } } }, { a: 1, c: 1 })).toBe(true);
  });

  test('logical keywords and enum (equality ignoring field order)', () => {
    expect(matches({ allOf: [{ required: ['a'] }, { required: ['b'] }] }, { a: 1 })).toBe(false);
    expect(matches({ anyOf: [{ required: ['a'] }, { required: ['b'] }] }, { a: 1 })).toBe(true);
    expect(matches({ oneOf: [{ required: ['a'] }, { required: ['b'] }] }, { a: 1, b: 1 })).toBe(false);
    expect(matches({ not: { required: ['a'] } }, { b: 1 })).toBe(true);
    expect(matches({ properties: { e: { enum: [{ x: 1, y: 2 }, 'z'] } } }, { e: { y: 2, x: 1 } })).toBe(true);
    expect(matches({ properties: { e: { enum: [new Int32(1)] } } }, { e: new Double(1) })).toBe(true);
    expect(matches({ properties: { e: { enum: [1] } } }, { e: [1] })).toBe(false);
  });

  test('$jsonSchema combines with other operators and works inside $or and $elemMatch', () => {
    const f = compileFilter({ $or: [{ $jsonSchema: { required: ['a'] } }, { b: 1 }] });
    expect(f.matches(stored({ b: 1 }))).toBe(true);
    expect(f.matches(stored({ c: 1 }))).toBe(false);
    const e = compileFilter({ arr: { $elemMatch: { $jsonSchema: { required: ['k'] } } } });
    expect(e.matches(stored({ arr: [{ j: 1 }, { k: 1 }] }))).toBe(true);
    expect(e.matches(stored({ arr: [{ j: 1 }] }))).toBe(false);
  });

  test('property: the schema of an int property accepts exactly the int values in range', () => {
    const schema = { properties: { n: { bsonType: 'int', minimum: -10, maximum: 10 } } };
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 100 }), (n) => {
        expect(matches(schema, { n: new Int32(n) })).toBe(n >= -10 && n <= 10);
        expect(matches(schema, { n: new Double(n + 0.5) })).toBe(false);
      }),
    );
  });
});

describe('$jsonSchema parse errors (mongod codes and texts)', () => {
  test.each([
    [5, 14, '$jsonSchema must be an object'],
    [{ foo: 1 }, 9, 'Unknown $jsonSchema keyword: foo'],
    [{ format: 'x' }, 9, "$jsonSchema keyword 'format' is not currently supported"],
    [{ type: 'integer' }, 9, "$jsonSchema type 'integer' is not currently supported."],
    [{ type: 'int' }, 2, 'Unknown type name alias: int'],
    [{ bsonType: 5 }, 14, "$jsonSchema keyword 'bsonType' must be either a string or an array of strings"],
    [{ bsonType: [] }, 9, "$jsonSchema keyword 'bsonType' must name at least one type"],
    [{ type: 'object', bsonType: 'object' }, 9, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'"],
    [{ required: [] }, 9, "$jsonSchema keyword 'required' cannot be an empty array"],
    [{ required: ['a', 'a'] }, 9, "$jsonSchema keyword 'required' array cannot contain duplicate values"],
    [{ required: 'a' }, 14, "$jsonSchema keyword 'required' must be an array, but found an element of type string"],
    [{ properties: { a: 1 } }, 14, "Nested schema for $jsonSchema property 'a' must be an object"],
    [{ minimum: 'x' }, 14, "$jsonSchema keyword 'minimum' must be a number"],
    [{ exclusiveMaximum: true }, 9, "$jsonSchema keyword 'maximum' must be a present if exclusiveMaximum is present"],
    [{ maximum: 1, exclusiveMaximum: 1 }, 14, "$jsonSchema keyword 'exclusiveMaximum' must be a boolean"],
    [{ multipleOf: 0 }, 9, "$jsonSchema keyword 'multipleOf' must have a positive value"],
    [{ maxLength: -1 }, 9, 'Expected a non-negative number in: maxLength: -1'],
    [{ enum: [] }, 9, "$jsonSchema keyword 'enum' cannot be an empty array"],
    [{ enum: [{ a: 1, b: 1 }, { b: 1, a: 1 }] }, 9, "$jsonSchema keyword 'enum' array cannot contain duplicate values."],
    [{ anyOf: [] }, 2, "$jsonSchema keyword 'anyOf' must be a non-empty array"],
    [{ allOf: [1] }, 14, "$jsonSchema keyword 'allOf' must be an array of objects, but found an element of type int"],
    [{ items: 1 }, 14, "$jsonSchema keyword 'items' must be an array or an object, not int"],
    [{ additionalProperties: 1 }, 14, "$jsonSchema keyword 'additionalProperties' must be an object or a boolean"],
    [{ dependencies: { a: 1 } }, 14, "property 'a' in $jsonSchema keyword 'dependencies' must be either an object or an array"],
    [{ dependencies: { a: [] } }, 9, "property 'a' in $jsonSchema keyword 'dependencies' cannot be an empty array"],
    [{ title: 1 }, 14, "$jsonSchema keyword 'title' must be of type string"],
    [{ uniqueItems: 1 }, 14, "$jsonSchema keyword 'uniqueItems' must be a boolean"],
  ])('%j', (schema, code, message) => {
    expect(schemaError(schema)).toEqual({ code, message });
  });

  test('encryption keywords: QueryFeatureNotAllowed where mongod bans them, else refused (115)', () => {
    const validator = { $jsonSchema: { properties: { s: { encrypt: {} } } } };
    expect(errorOf(() => compileValidator(validator, { encryptKeywordsAllowed: false }))).toEqual({
      code: 224,
      message: 'Encryption-related validator keywords are not allowed in this context',
    });
    expect(errorOf(() => compileValidator(validator, { encryptKeywordsAllowed: true })).code).toBe(115);
    expect(schemaError({ encrypt: {}, bsonType: 'string' })).toEqual({
      code: 9,
      message: "$jsonSchema keyword 'encrypt' cannot be used in conjunction with 'bsonType', 'encrypt' implies type 'bsonType::BinData'",
    });
  });
});

describe('validators: what they refuse', () => {
  const parse = (validator: Document) => errorOf(() => compileValidator(validator, { encryptKeywordsAllowed: true }));
  test('$where, $text and $near are not allowed in validators', () => {
    expect(parse({ $where: 'true' })).toEqual({ code: 2, message: '$where is not allowed in this context' });
    expect(parse({ $text: { $search: 'x' } })).toEqual({ code: 2, message: '$text is not allowed in this context' });
    expect(parse({ loc: { $near: [0, 0] } })).toEqual({ code: 5626500, message: '$geoNear, $near, and $nearSphere are not allowed in this context' });
    expect(parse({ a: { $gt: 1, $near: [0, 0] } })).toEqual({ code: 2, message: 'near must be first in: { $gt: 1, $near: [ 0, 0 ] }' });
  });
  test('the filter parser errors come in document order', () => {
    expect(parse({ a: { $foo: 1 }, $where: 'x' })).toEqual({ code: 2, message: 'unknown operator: $foo' });
  });
});

describe('validation error details (doc_validation_error.cpp)', () => {
  test('a query-operator clause: operatorName, specifiedAs, reason, consideredValue', () => {
    expect(details({ a: { $gt: 5 } }, { a: new Int32(3) })).toBe(
      ejson({ operatorName: '$gt', specifiedAs: { a: { $gt: 5 } }, reason: 'comparison failed', consideredValue: new Int32(3) }),
    );
    expect(details({ a: { $gt: 5 } }, {})).toBe(ejson({ operatorName: '$gt', specifiedAs: { a: { $gt: 5 } }, reason: 'field was missing' }));
    expect(details({ a: { $type: 'string' } }, { a: [new Int32(1), new Double(2.5)] })).toBe(
      ejson({ operatorName: '$type', specifiedAs: { a: { $type: 'string' } }, reason: 'type did not match', consideredValues: [new Int32(1), new Double(2.5)], consideredTypes: ['double', 'int'] }),
    );
    expect(details({ a: { $size: 2 } }, { a: 'x' })).toBe(
      ejson({ operatorName: '$size', specifiedAs: { a: { $size: 2 } }, reason: 'type did not match', consideredType: 'string', expectedType: 'array', consideredValue: 'x' }),
    );
  });

  test('an implicit $and lists the failing clauses with their index; $nor the ones that matched', () => {
    expect(details({ a: { $gt: 5 }, b: { $exists: true } }, { a: new Int32(9) })).toBe(
      ejson({
        operatorName: '$and',
        clausesNotSatisfied: [{ index: new Int32(1), details: { operatorName: '$exists', specifiedAs: { b: { $exists: true } }, reason: 'path does not exist' } }],
      }),
    );
    expect(details({ $nor: [{ a: new Int32(1) }, { b: new Int32(1) }] }, { a: new Int32(1) })).toBe(
      ejson({
        operatorName: '$nor',
        clausesSatisfied: [{ index: new Int32(0), details: { operatorName: '$eq', specifiedAs: { a: new Int32(1) }, reason: 'comparison succeeded', consideredValue: new Int32(1) } }],
      }),
    );
  });

  test('$expr reports its value', () => {
    expect(details({ $expr: { $eq: ['$total', { $sum: ['$sub', '$tax'] }] } }, { total: new Int32(5), sub: new Int32(1), tax: new Int32(1) })).toBe(
      ejson({
        operatorName: '$expr',
        specifiedAs: { $expr: { $eq: ['$total', { $sum: ['$sub', '$tax'] }] } },
        reason: 'expression did not match',
        expressionResult: false,
      }),
    );
  });

  test('$jsonSchema: a missing required field', () => {
    expect(details({ $jsonSchema: { required: ['name'] } }, {})).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [{ operatorName: 'required', specifiedAs: { required: ['name'] }, missingProperties: ['name'] }],
      }),
    );
  });

  test('$jsonSchema: a bsonType mismatch inside properties, with title and description', () => {
    const schema = { bsonType: 'object', title: 'Student', properties: { gpa: { bsonType: 'double', description: 'must be a double' } } };
    expect(details({ $jsonSchema: schema }, { gpa: new Int32(3) })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        title: 'Student',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [
              {
                propertyName: 'gpa',
                description: 'must be a double',
                details: [{ operatorName: 'bsonType', specifiedAs: { bsonType: 'double' }, reason: 'type did not match', consideredValue: new Int32(3), consideredType: 'int' }],
              },
            ],
          },
        ],
      }),
    );
  });

  test('$jsonSchema: a property both required and typed reports only that it is missing', () => {
    expect(details({ $jsonSchema: { required: ['a'], properties: { a: { bsonType: 'int', minimum: 2 } } } }, {})).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [{ operatorName: 'required', specifiedAs: { required: ['a'] }, missingProperties: ['a'] }],
      }),
    );
  });

  test('$jsonSchema: items, additionalProperties, enum, oneOf, not, dependencies', () => {
    expect(details({ $jsonSchema: { properties: { arr: { items: { minimum: 5 } } } } }, { arr: [new Int32(6), new Int32(3)] })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [
              {
                propertyName: 'arr',
                details: [
                  {
                    operatorName: 'items',
                    reason: 'At least one item did not match the sub-schema',
                    itemIndex: new Int32(1),
                    details: [{ operatorName: 'minimum', specifiedAs: { minimum: 5 }, reason: 'comparison failed', consideredValue: new Int32(3) }],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(details({ $jsonSchema: { properties: { _id: {} }, additionalProperties: false } }, { x: 1, y: 2 })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [{ operatorName: 'additionalProperties', specifiedAs: { additionalProperties: false }, additionalProperties: ['x', 'y'] }],
      }),
    );
    expect(details({ $jsonSchema: { oneOf: [{ required: ['a'] }, { required: ['b'] }] } }, { a: 1, b: 1 })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [{ operatorName: 'oneOf', reason: 'more than one subschema matched', matchingSchemaIndexes: [new Int32(0), new Int32(1)] }],
      }),
    );
    expect(details({ $jsonSchema: { not: { required: ['a'] } } }, { a: 1 })).toBe(
      ejson({ operatorName: '$jsonSchema', schemaRulesNotSatisfied: [{ operatorName: 'not', reason: 'child expression matched' }] }),
    );
    expect(details({ $jsonSchema: { dependencies: { a: ['b'] } } }, { a: 1 })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [{ operatorName: 'dependencies', failingDependencies: [{ conditionalProperty: 'a', missingProperties: ['b'] }] }],
      }),
    );
    expect(details({ $jsonSchema: { properties: { e: { enum: [1, 2] } } } }, { e: new Int32(3) })).toBe(
      ejson({
        operatorName: '$jsonSchema',
        schemaRulesNotSatisfied: [
          {
            operatorName: 'properties',
            propertiesNotSatisfied: [{ propertyName: 'e', details: [{ operatorName: 'enum', specifiedAs: { enum: [1, 2] }, reason: 'value was not found in enum', consideredValue: new Int32(3) }] }],
          },
        ],
      }),
    );
  });

  test('a top-level type other than object: the whole schema always fails', () => {
    expect(details({ $jsonSchema: { bsonType: 'string' } }, {})).toBe(
      ejson({ operatorName: '$jsonSchema', specifiedAs: { $jsonSchema: { bsonType: 'string' } }, reason: 'expression always evaluates to false' }),
    );
  });

  test('considered values stop at 10 and say so', () => {
    const many = Array.from({ length: 12 }, (_, i) => new Int32(i));
    const d = JSON.parse(details({ a: { $gt: 100 } }, { a: many })) as Document;
    expect(d.consideredValues).toHaveLength(10);
    expect(d.consideredValuesTruncated).toBe(true);
  });

  test('an operator mongod does not annotate gets its note', () => {
    const compiled = compileValidator({ $alwaysFalse: 1 }, { encryptKeywordsAllowed: true });
    const info = compiled.errorInfo(stored({ _id: 1 }));
    expect(info.note).toBe('failed to generate document validation error');
    expect(info.details.code).toEqual(new Int32(4994600));
  });
});

describe('robustness', () => {
  const keyword = fc.constantFrom(
    'bsonType', 'type', 'required', 'properties', 'additionalProperties', 'patternProperties', 'minimum', 'maximum', 'exclusiveMinimum',
    'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'enum', 'items', 'additionalItems', 'minItems', 'maxItems',
    'uniqueItems', 'minProperties', 'maxProperties', 'dependencies', 'allOf', 'anyOf', 'oneOf', 'not', 'title', 'description',
  );
  const scalar = fc.oneof(fc.integer({ min: -3, max: 5 }).map((n) => new Int32(n)), fc.constantFrom('a', 'int', 'string', 'number', 'object', 'array', '^a', true, false, null));
  const { schema } = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(fc.oneof(scalar, tie('schema')), { maxLength: 3 }), tie('schema'), fc.dictionary(fc.constantFrom('a', 'b', '_id'), tie('schema'), { maxKeys: 2 })),
    schema: fc.dictionary(keyword, tie('value'), { maxKeys: 3 }),
  }));
  const doc = fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b'), scalar, { maxKeys: 2 })), { maxKeys: 3 });

  test('property: a schema either fails with a MongoError or matches and explains any document without throwing', () => {
    fc.assert(
      fc.property(schema, doc, (s, d) => {
        let compiled;
        try {
          compiled = compileValidator({ $jsonSchema: s as Document }, { encryptKeywordsAllowed: true });
        } catch (err) {
          expect(err).toBeInstanceOf(MongoError);
          return;
        }
        const document = stored({ _id: 1, ...d });
        expect(compileFilter({ $jsonSchema: s as Document }).matches(document)).toBe(compiled.matches(document));
        if (!compiled.matches(document)) expect(compiled.errorInfo(document).details).toBeTypeOf('object');
      }),
      { numRuns: 500 },
    );
  });
});
