/**
 * Role names as the user-management commands take them (auth_name.cpp, role_name_or_string.cpp,
 * user_management_commands_common.cpp `resolveRoleNames`): a bare string names a role on the
 * command's database, a `{role, db}` document names it anywhere.
 */
import { ObjectId } from 'bson';
import { isPlainObject } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { typeName } from '../bson/typeName.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { RoleName } from './roles.js';

/** `RoleName`'s display form, as mongod prints it in messages: `role@db`. */
export function roleText(name: RoleName): string {
  return `${name.role}@${name.db}`;
}

/** A string key equal for equal role names. */
export function roleKey(name: RoleName): string {
  return `${name.db}\0${name.role}`;
}

export function sameRole(a: RoleName, b: RoleName): boolean {
  return a.role === b.role && a.db === b.db;
}

/**
 * `AuthName<RoleName>::parseFromBSONObj`: `role` and `db` strings (each once), an optional
 * `tenant` ObjectId; other fields are ignored (RoleName is not strict).
 */
export function parseRoleNameDocument(doc: Record<string, unknown>): RoleName {
  let role: string | undefined;
  let db: string | undefined;
  for (const [field, value] of Object.entries(doc)) {
    if (field === 'role' || field === 'db') {
      if (typeof value !== 'string') {
        throw new MongoError(
          ErrorCodes.BadValue,
          `RoleName must contain a string field named: ${field}. But, has type ${typeName(value)}`,
        );
      }
      if (field === 'role') role = value;
      else db = value;
    } else if (field === 'tenant' && !(value instanceof ObjectId)) {
      throw new MongoError(ErrorCodes.BadValue, `RoleName must contain a objectId field named: tenant. But, has type ${typeName(value)}`);
    }
  }
  if (role === undefined) throw new MongoError(ErrorCodes.BadValue, 'RoleName must contain a field named: role');
  if (db === undefined) throw new MongoError(ErrorCodes.BadValue, 'RoleName must contain a field named: db');
  return { role, db };
}

/**
 * `RoleName::parseFromBSON`: a `"db.role"` string or a `{role, db}` document (rolesInfo's
 * elements that are not plain names).
 */
export function parseRoleName(value: unknown): RoleName {
  if (typeof value === 'string') {
    const dot = value.indexOf('.');
    if (dot < 0) throw new MongoError(ErrorCodes.BadValue, "RoleName must contain a '.' separated database.role pair");
    return { role: value.slice(dot + 1), db: value.slice(0, dot) };
  }
  if (isPlainObject(value)) return parseRoleNameDocument(value);
  throw new MongoError(ErrorCodes.BadValue, 'RoleName must be either a string or an object');
}

/** `RoleNameOrString::getRoleName`: one element of a command's `roles` array. */
export function parseRoleNameOrString(value: unknown, db: string): RoleName {
  if (typeof value === 'string') return { role: value, db };
  if (isPlainObject(value)) return parseRoleNameDocument(value);
  throw new MongoError(ErrorCodes.BadValue, 'Role name must be either a document or string');
}

/** Drops repeated names, keeping the first of each (mongod de-duplicates through a set). */
export function uniqueRoles(names: readonly RoleName[]): RoleName[] {
  const seen = new Set<string>();
  const out: RoleName[] = [];
  for (const name of names) {
    const key = roleKey(name);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ role: name.role, db: name.db });
  }
  return out;
}

/**
 * An IDL `array<RoleNameOrString>` field that is present (`path` is `<command>.roles`), resolved
 * against the command's database and de-duplicated (`resolveRoleNames`).
 */
export function parseRoleList(value: unknown, path: string, db: string): RoleName[] {
  if (!Array.isArray(value)) throw wrongType(path, value, 'array');
  return uniqueRoles(value.map((element: unknown) => parseRoleNameOrString(element, db)));
}
