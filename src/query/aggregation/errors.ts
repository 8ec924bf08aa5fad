/**
 * The mongod error codes the aggregation stages answer with.
 *
 * BELONGS IN src/errors.ts: these are to move into the one table there (ErrorCodes for the named
 * one, LocationCodes for the others) when the runner is wired in; they live here only because
 * this folder may not edit files outside it. Codes src/errors.ts already has are used from there.
 */
import { MongoError } from '../../errors.js';


export function fail(code: number, message: string): never {
  throw new MongoError(code, message);
}

/** DBException::addContext: "<context> :: caused by :: <message>", the code kept. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof MongoError && err.code !== 115) {
      throw new MongoError(err.code, `${context} :: caused by :: ${err.message}`, { ...err.extra });
    }
    throw err;
  }
}
