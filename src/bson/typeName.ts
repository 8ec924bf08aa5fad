import { Binary, BSONRegExp, BSONSymbol, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID } from 'bson';

/** BSON type names as mongod prints them in errors (typeName(BSONType), src/mongo/bson/bsontypes.cpp). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  // A plain number is typed as the bson serializer types it (-0 is a double).
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) <= 2147483647 && !Object.is(value, -0) ? 'int' : 'double';
  // A Timestamp is also an instance of Long: it is asked first.
  if (value instanceof Timestamp) return 'timestamp';
  if (typeof value === 'bigint' || value instanceof Long) return 'long';
  if (value instanceof Int32) return 'int';
  if (value instanceof Double) return 'double';
  if (value instanceof Decimal128) return 'decimal';
  if (value instanceof Binary || value instanceof UUID) return 'binData';
  if (value instanceof ObjectId) return 'objectId';
  if (value instanceof Date) return 'date';
  if (value instanceof BSONRegExp || value instanceof RegExp) return 'regex';
  if (value instanceof Code) return value.scope === undefined || value.scope === null ? 'javascript' : 'javascriptWithScope';
  if (value instanceof BSONSymbol) return 'symbol';
  if (value instanceof MinKey) return 'minKey';
  if (value instanceof MaxKey) return 'maxKey';
  if (Array.isArray(value)) return 'array';
  return 'object';
}
