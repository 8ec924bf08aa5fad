import { expect } from 'vitest';
import { MongoError, ProtocolViolation } from '../../../src/errors.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Asserts `fn` throws a MongoError with `code` (and a message matching `message`, if given). */
export function expectMongoError(fn: () => unknown, code: number, message?: string | RegExp): MongoError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(MongoError);
  const mongoError = err as MongoError;
  expect(mongoError.code, `errmsg: ${mongoError.message}`).toBe(code);
  if (typeof message === 'string') expect(mongoError.message).toBe(message);
  else if (message !== undefined) expect(mongoError.message).toMatch(message);
  return mongoError;
}

/** Asserts `fn` throws a ProtocolViolation (the connection-closing kind). */
export function expectViolation(fn: () => unknown, message?: string | RegExp): ProtocolViolation {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ProtocolViolation);
  const violation = err as ProtocolViolation;
  if (typeof message === 'string') expect(violation.message).toBe(message);
  else if (message !== undefined) expect(violation.message).toMatch(message);
  return violation;
}
