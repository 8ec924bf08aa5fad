import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp, UUID, type Document } from 'bson';

/**
 * A document as mongod prints it in messages (BSONObj::toString): `{ find: "c", filter: {} }`,
 * used in "not authorized on <db> to execute command { ... }".
 */
export function bsonText(value: unknown): string {
  if (value === null || value === undefined) return value === null ? 'null' : 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : doubleText(value);
  if (value instanceof Int32) return String(value.value);
  if (value instanceof Double) return doubleText(value.value);
  // A Timestamp is a Long to `instanceof`: it is tested first.
  if (value instanceof Timestamp) return `Timestamp(${value.high}, ${value.low})`;
  if (value instanceof Long) return value.toString();
  if (value instanceof Decimal128) return `NumberDecimal("${value.toString()}")`;
  if (value instanceof UUID) return `UUID("${value.toHexString(true)}")`;
  if (value instanceof Binary) return `BinData(${value.sub_type}, ${Buffer.from(value.value()).toString('hex').toUpperCase()})`;
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (value instanceof Date) return `new Date(${value.getTime()})`;
  if (value instanceof BSONRegExp) return `/${value.pattern}/${value.options}`;
  if (Array.isArray(value)) return value.length === 0 ? '[]' : `[ ${value.map(bsonText).join(', ')} ]`;
  const entries = Object.entries(value as Document);
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, v]) => `${k}: ${bsonText(v)}`).join(', ')} }`;
}

/** A cluster time as mongod prints it in read concern errors (LogicalTime::toString): `{ ts: Timestamp(t, i) }`. */
export function logicalTimeText(ts: Timestamp): string {
  return `{ ts: Timestamp(${ts.t}, ${ts.i}) }`;
}

function doubleText(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}
