import { ErrorCodes, MongoError } from '../../errors.js';

export function badValue(message: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, message);
}

export function failedToParse(message: string): MongoError {
  return new MongoError(ErrorCodes.FailedToParse, message);
}

export function typeMismatch(message: string): MongoError {
  return new MongoError(ErrorCodes.TypeMismatch, message);
}

export function pathNotViable(message: string): MongoError {
  return new MongoError(ErrorCodes.PathNotViable, message);
}

export function conflict(message: string): MongoError {
  return new MongoError(ErrorCodes.ConflictingUpdateOperators, message);
}

/** Status::withContext: "<context> :: caused by :: <reason>", same code. */
export function withContext(err: unknown, context: string): unknown {
  if (!(err instanceof MongoError)) return err;
  return new MongoError(err.code, `${context} :: caused by :: ${err.message}`, { ...err.extra });
}
