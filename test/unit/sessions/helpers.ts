import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { MongoError } from '../../../src/errors.js';
import { NO_AUTH_UID, type LogicalSessionId } from '../../../src/sessions/logicalSessionId.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, but it returned');
}

/** Asserts `fn` throws a MongoError with exactly `code` and (if given) exactly `errmsg`. */
export function expectMongoError(fn: () => unknown, code: number, errmsg?: string): MongoError {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(MongoError);
  const mongoError = err as MongoError;
  expect(mongoError.code, `errmsg: ${mongoError.message}`).toBe(code);
  if (errmsg !== undefined) expect(mongoError.message).toBe(errmsg);
  return mongoError;
}

/** A fresh server-side lsid: random 16-byte id, the no-auth uid unless given. */
export function newLsid(uid: Buffer = NO_AUTH_UID): LogicalSessionId {
  return { id: randomBytes(16), uid };
}

/** The canonical dashed text of a 16-byte id. */
export function uuidText(id: Buffer): string {
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
