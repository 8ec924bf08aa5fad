import { ErrorCodes, MongoError } from '../../errors.js';

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
