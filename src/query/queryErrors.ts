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

export function located(code: number, message: string): MongoError {
  return new MongoError(code, message);
}
