import { ErrorCodes, MongoError } from '../errors.js';
import { wrongType } from './idlErrors.js';
import { typeName } from './typeName.js';
import { Decimal128, Double, Int32, Long } from 'bson';


/** A numeric BSON value (int, long, double, decimal) as a JS number; undefined for anything else. */
export function numberValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toNumber();
  if (value instanceof Decimal128) return Number(value.toString());
  return undefined;
}

/** mongod's "truthy" for a command argument (BSONElement::trueValue). */
export function trueValue(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  const n = numberValue(value);
  if (n !== undefined) return n !== 0;
  return true;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  // What bson decodes a document to: nothing else has this prototype, so typeName's fourteen
  // instanceof tests (run on every write's documents and most arguments) can be skipped.
  return Object.getPrototypeOf(value) === Object.prototype || typeName(value) === 'object';
}

/** The collection a command names in its first field (find: "c", insert: "c" ...), checked as mongod does. */
export function collectionArgument(ctx: { body: Record<string, unknown>; name: string; db: string }, field = ctx.name): string {
  const name = ctx.body[field];
  if (typeof name !== 'string') {
    throw new MongoError(ErrorCodes.InvalidNamespace, `collection name has invalid type ${typeName(name)}`);
  }
  // NamespaceString::validCollectionName: not empty, no leading dot, no '$' and no NUL.
  if (name.length === 0 || name.startsWith('.') || /[$\0]/.test(name)) {
    throw new MongoError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${ctx.db}.${name}'`);
  }
  return name;
}

/**
 * An optional object field of the command (`<command>.<field>` in the IDL type error when it is
 * something else); absent is undefined, and so is null where `nullIsAbsent`.
 */
export function optionalObject(
  ctx: { body: Record<string, unknown>; name: string },
  field: string,
  nullIsAbsent = false,
): Record<string, unknown> | undefined {
  const value = ctx.body[field];
  if (value === undefined || (nullIsAbsent && value === null)) return undefined;
  if (!isPlainObject(value)) throw wrongType(`${ctx.name}.${field}`, value, 'object');
  return value;
}
