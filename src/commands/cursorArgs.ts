import { notAtLeast } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { numberValue } from '../bson/args.js';
import { typeName } from '../bson/typeName.js';

/** A non-negative integer IDL field (skip, limit, batchSize) with mongod's validator error. */
export function nonNegativeInt(value: unknown, field: string, command: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = numberValue(value);
  if (n === undefined) {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field '${command}.${field}' is the wrong type '${typeName(value)}', expected types '[long, int, decimal, double]'`,
    );
  }
  if (n < 0) throw notAtLeast(field, 0, n);
  return Math.trunc(n);
}
