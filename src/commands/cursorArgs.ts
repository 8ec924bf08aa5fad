import { ErrorCodes, MongoError } from '../errors.js';
import { numberValue, typeName } from './args.js';

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
  if (n < 0) throw new MongoError(51024, `BSON field '${field}' value must be >= 0, actual value '${n}'`);
  return Math.trunc(n);
}
