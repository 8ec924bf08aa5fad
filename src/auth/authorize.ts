import type { Document } from 'bson';
import { bsonText } from '../bson/bsonText.js';
import { redactForLog } from '../bson/redact.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { ActionType, ResourceSpec } from './privileges.js';

/** What a command needs: these actions on this resource. */
export interface Requirement {
  readonly resource: ResourceSpec;
  readonly actions: readonly ActionType[];
}

/** mongod's generic refusal: "not authorized on <db> to execute command { ... }". */
export function notAuthorized(db: string, body: Document): MongoError {
  return new MongoError(ErrorCodes.Unauthorized, `not authorized on ${db} to execute command ${bsonText(redactForLog(body))}`);
}
