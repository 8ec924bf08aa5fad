/**
 * Stored BSON values as the update engine reads and copies them. Values are those of
 * `BSON.deserialize(bytes, { promoteValues: false })` (bson Int32/Long/Double/Decimal128/...,
 * plain objects, arrays, DBRef instances for {$ref, $id} documents) plus plain JS numbers and
 * bigints from server-built documents.
 */
import { BSON } from 'bson';
import { dbrefDocument, defineField, elementText, objectKind } from '../match/values.js';

export type Obj = Record<string, unknown>;

const hasOwn = Object.prototype.hasOwnProperty;

export { defineField, elementText };

/** An embedded document (BSON type 3): a plain object or a bson DBRef. */
export function isDocument(v: unknown): boolean {
  return objectKind(v) !== 0;
}

/** A DBRef read as the document it is on the wire; plain documents as they are. */
export function asDocument(v: unknown): Obj {
  return objectKind(v) === 2 ? dbrefDocument(v) : (v as Obj);
}

/** The own field `name` of a document, or `has: false`. */
export function ownField(doc: unknown, name: string): { has: boolean; value: unknown } {
  const o = asDocument(doc);
  return hasOwn.call(o, name) ? { has: true, value: o[name] } : { has: false, value: undefined };
}

export function hasOwnField(o: Obj, name: string): boolean {
  return hasOwn.call(o, name);
}

/**
 * str::parseUnsignedBase10Integer: digits only (leading zeros allowed, no sign), as an array
 * position; undefined otherwise. Positions past 2^53 are not representable and read as absent.
 */
export function parseArrayIndex(name: string): number | undefined {
  const n = name.length;
  if (n === 0) return undefined;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const v = Number(name);
  return Number.isSafeInteger(v) ? v : Number.MAX_SAFE_INTEGER;
}

/** A shallow copy of a document or array (a DBRef becomes the plain document it stands for). */
export function copyContainer(v: unknown): Obj | unknown[] {
  if (Array.isArray(v)) return v.slice();
  const src = asDocument(v);
  const out: Obj = {};
  for (const k of Object.keys(src)) defineField(out, k, src[k]);
  return out;
}

const SERIALIZE_OPTIONS = { checkKeys: false, ignoreUndefined: false, serializeFunctions: false } as const;

function bytesOf(v: unknown): Uint8Array {
  return BSON.serialize({ v }, SERIALIZE_OPTIONS);
}

/**
 * A key that is equal for two scalars exactly when they have the same BSON type and value bytes,
 * for the common scalar types; undefined for everything else (compared by serializing).
 */
function scalarKey(v: unknown): string | undefined {
  switch (typeof v) {
    case 'number':
      // As the serializer types it: an int32 when it is one (not -0), else a double.
      return (v | 0) === v && !Object.is(v, -0) ? `i${v}` : `d${Object.is(v, -0) ? '-0' : String(v)}`;
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'T' : 'F';
    case 'bigint':
      return `l${BigInt.asIntN(64, v)}`;
    case 'object': {
      if (v === null) return 'n';
      switch ((v as { _bsontype?: unknown })._bsontype) {
        case 'Int32':
          return `i${(v as { value: number }).value}`;
        case 'Double': {
          const d = +(v as { value: number }).value;
          return `d${Object.is(d, -0) ? '-0' : String(d)}`;
        }
        case 'Long':
          return `l${String(v)}`;
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

/**
 * BSONElement::binaryEqualValues: the same BSON type and the same value bytes (so Int32(1) and
 * Double(1) differ, Decimal128 "2.5" and "2.50" differ, 0.0 and -0.0 differ).
 */
export function sameBytes(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ka = scalarKey(a);
  const kb = scalarKey(b);
  if (ka !== undefined || kb !== undefined) return ka === kb;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  try {
    const x = bytesOf(a);
    const y = bytesOf(b);
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  } catch {
    return false;
  }
}

/** BSONElement::toString of the document's `_id` ("_id: 1"), or "no id", as update messages quote it. */
export function idText(doc: Obj): string {
  return hasOwn.call(doc, '_id') ? elementText('_id', doc._id) : 'no id';
}
