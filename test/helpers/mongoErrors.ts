import type { Document } from 'bson';
import { MongoError } from '../../src/errors.js';

/** The MongoError `f` throws, as {code, message}; any other error is rethrown, no error fails the test. */
export function mongoError(f: () => unknown): { code: number; message: string } {
  try {
    f();
  } catch (e) {
    if (e instanceof MongoError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a MongoError');
}

/** Documents that fail the test when read: proof that nothing ran before an error. */
export function* unreadable(): Generator<Document> {
  throw new Error('a document was read');
}
