import { ErrorCodes, MongoError } from '../errors.js';

// The errors the query language raises, made in one place (match/, update/, projection/).

export function badValue(message: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, message);
}

export function failedToParse(message: string): MongoError {
  return new MongoError(ErrorCodes.FailedToParse, message);
}

export function typeMismatch(message: string): MongoError {
  return new MongoError(ErrorCodes.TypeMismatch, message);
}

/** A feature mongod has and pocketmongo does not (yet): a clear refusal instead of a guess. */
export function notSupported(feature: string): MongoError {
  return new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support ${feature} yet`);
}

/** Refusals no fallback may answer instead (the aggregation runner sends other 115s to mingo). */
const FINAL = new WeakSet<Error>();

/** notSupported, final: the client gets the refusal (server-side JavaScript, a stage nobody has). */
export function finalRefusal(feature: string): MongoError {
  const err = notSupported(feature);
  FINAL.add(err);
  return err;
}

export function isFinalRefusal(err: unknown): boolean {
  return err instanceof Error && FINAL.has(err);
}

export function located(code: number, message: string): MongoError {
  return new MongoError(code, message);
}
