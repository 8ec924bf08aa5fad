/**
 * Privileges as the role commands take them: `{resource: {...}, actions: [...]}` documents
 * (parsed_privilege.idl's ParsedPrivilege / ParsedResource), turned into a resource pattern and
 * an action list (privilege.cpp `resolvePrivilegeWithTenant`, action_type.cpp
 * `parseActionFromString`).
 *
 * Two passes, as mongod parses the command (IDL: field types, required fields) before it reads
 * what the fields mean: `parsePrivilegeArray` checks every document's shape, then resolves each.
 */
import { isPlainObject, numberValue } from '../bson/args.js';
import { missingField, wrongType } from '../bson/idlErrors.js';
import { typeName } from '../bson/typeName.js';
import { ErrorCodes, MongoError } from '../errors.js';
import {
  isActionType,
  matchTypeOf,
  normalizeActions,
  Pattern,
  type ActionType,
  type Privilege,
  type ResourcePattern,
} from './privileges.js';

interface ParsedResource {
  cluster?: boolean;
  anyResource?: boolean;
  db?: string;
  collection?: string;
  systemBuckets?: string;
}

interface ParsedPrivilege {
  resource: ParsedResource;
  actions: string[];
}

/** IDL `safeBool`: a bool or any number, read as its truth value (`path` names the field in the type error). */
export function safeBool(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  const n = numberValue(value);
  if (n !== undefined) return n !== 0;
  throw new MongoError(
    ErrorCodes.TypeMismatch,
    `BSON field '${path}' is the wrong type '${typeName(value)}', expected types '[bool, long, int, decimal, double]'`,
  );
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw wrongType(path, value, 'string');
  return value;
}

function parseResource(value: unknown, path: string): ParsedResource {
  if (!isPlainObject(value)) throw wrongType(path, value, 'object');
  const out: ParsedResource = {};
  for (const [field, v] of Object.entries(value)) {
    if (field === 'cluster') out.cluster = safeBool(v, `${path}.cluster`);
    else if (field === 'anyResource') out.anyResource = safeBool(v, `${path}.anyResource`);
    else if (field === 'db') out.db = string(v, `${path}.db`);
    else if (field === 'collection') out.collection = string(v, `${path}.collection`);
    else if (field === 'system_buckets') out.systemBuckets = string(v, `${path}.system_buckets`);
    // ParsedResource is not strict: other fields are ignored.
  }
  return out;
}

/** One ParsedPrivilege (`path` is the array's: IDL names array elements' fields without the index). */
function parseShape(value: unknown, path: string): ParsedPrivilege {
  let resource: ParsedResource | undefined;
  let actions: string[] | undefined;
  for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
    if (field === 'resource') {
      resource = parseResource(v, `${path}.resource`);
    } else if (field === 'actions') {
      if (!Array.isArray(v)) throw wrongType(`${path}.actions`, v, 'array');
      actions = v.map((a: unknown, i) => string(a, `${path}.actions.${i}`));
    }
  }
  if (resource === undefined) throw missingField(`${path}.resource`);
  if (actions === undefined) throw missingField(`${path}.actions`);
  return { resource, actions };
}

function conflict(resource: string, found: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, `${resource} conflicts with resource type '${found}'`);
}

/**
 * `NamespaceString::validCollectionName`: not empty, not starting with '.', no NUL and no '$'
 * (privileges may still name `local.oplog.$main`).
 */
export function isValidCollectionName(db: string, collection: string): boolean {
  if (db === 'local' && collection === 'oplog.$main') return true;
  return collection.length > 0 && !collection.startsWith('.') && !/[\0$]/.test(collection);
}

function resolveResource(rsrc: ParsedResource): ResourcePattern {
  if (rsrc.cluster !== undefined) {
    const kind = 'resource: {cluster: true}';
    if (!rsrc.cluster) throw new MongoError(ErrorCodes.BadValue, 'resource: {cluster: false} must be true');
    if (rsrc.anyResource !== undefined) throw conflict(kind, 'anyResource');
    if (rsrc.db !== undefined) throw conflict(kind, 'db');
    if (rsrc.collection !== undefined) throw conflict(kind, 'collection');
    if (rsrc.systemBuckets !== undefined) throw conflict(kind, 'system_buckets');
    return Pattern.cluster();
  }
  if (rsrc.anyResource !== undefined) {
    const kind = 'resource: {anyResource: true}';
    if (!rsrc.anyResource) throw new MongoError(ErrorCodes.BadValue, 'resource: {anyResource: false} must be true');
    if (rsrc.db !== undefined) throw conflict(kind, 'db');
    if (rsrc.collection !== undefined) throw conflict(kind, 'collection');
    if (rsrc.systemBuckets !== undefined) throw conflict(kind, 'system_buckets');
    return Pattern.anyResource();
  }
  if (rsrc.collection !== undefined && rsrc.systemBuckets !== undefined) {
    throw conflict("resource: {collection: '...'}", 'system_buckets');
  }
  if (rsrc.collection !== undefined) {
    if (rsrc.db === undefined) {
      throw new MongoError(ErrorCodes.BadValue, "resource {collection: '...'} must include 'db' field as well");
    }
    const { db, collection } = rsrc;
    if (collection !== '' && !isValidCollectionName(db, collection)) {
      throw new MongoError(ErrorCodes.BadValue, `'${collection}' is not a valid collection name`);
    }
    return { db, collection };
  }
  if (rsrc.systemBuckets !== undefined) {
    const db = rsrc.db ?? '';
    return db === '' ? { system_buckets: rsrc.systemBuckets } : { db, system_buckets: rsrc.systemBuckets };
  }
  throw new MongoError(ErrorCodes.BadValue, "resource pattern must contain 'collection' or 'systemBuckets' specifier");
}

function resolveActions(actions: readonly string[]): ActionType[] {
  if (actions.length === 0) {
    throw new MongoError(ErrorCodes.BadValue, "'actions' field of privilege resource must not be empty");
  }
  for (const action of actions) {
    if (!isActionType(action)) {
      throw new MongoError(ErrorCodes.FailedToParse, `Unrecognized action privilege string: ${action}`);
    }
  }
  return normalizeActions(actions as ActionType[]);
}

/**
 * An IDL `array<ParsedPrivilege>` field that is present (`path` is `<command>.privileges`): every
 * element's shape first, then each resolved to a privilege (not yet merged: callers merge as
 * mongod does when it stores them).
 */
export function parsePrivilegeArray(value: unknown, path: string): Privilege[] {
  if (!Array.isArray(value)) throw wrongType(path, value, 'array');
  const parsed = value.map((element: unknown, i) => {
    if (!isPlainObject(element)) throw wrongType(`${path}.${i}`, element, 'object');
    return parseShape(element, path);
  });
  return parsed.map((p) => ({ resource: resolveResource(p.resource), actions: resolveActions(p.actions) }));
}

/**
 * `checkOkayToGrantPrivilegesToRole`: a role not on `admin` may only hold privileges on its own
 * database (a database or an exact-namespace pattern there).
 */
export function checkPrivilegesFitRole(roleDb: string, privileges: readonly Privilege[]): void {
  if (roleDb === 'admin') return;
  for (const privilege of privileges) {
    const type = matchTypeOf(privilege.resource);
    if ((type === 'database' || type === 'exact_namespace') && (privilege.resource as { db: string }).db === roleDb) continue;
    throw new MongoError(
      ErrorCodes.InvalidRoleModification,
      `Roles on the '${roleDb}' database cannot be granted privileges that target other databases or the cluster`,
    );
  }
}
