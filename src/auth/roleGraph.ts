/**
 * The role graph: built-in roles and user-defined ones, walked as mongod walks them
 * (authz_manager_external_state_local.cpp `resolveRoles`, `rolesExist`, `getRolesDescription`,
 * `getRoleDescriptionsForDB`, `getRolesAsUserFragment`; user_management_commands.cpp
 * `checkOkayToGrantRolesToRole`).
 *
 * Walking: breadth first from the given roles, each role once. A built-in role contributes its
 * full privilege list and is not walked further (its sub-roles are already in it); a user-defined
 * role contributes its own privileges and its `roles`; a role that does not exist contributes
 * nothing (mongod logs "Role does not exist" and goes on). mongod gathers roles in unordered sets;
 * here they come in discovery order.
 */
import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { mergePrivileges, type Privilege } from './privileges.js';
import { roleKey, roleText, sameRole, uniqueRoles } from './roleNames.js';
import type { RoleDocument } from './roleStore.js';
import { builtinRole, builtinRoleNames, describeRole, isBuiltinRole, type RoleName } from './roles.js';

/** Finds a user-defined role. */
export type RoleFinder = (name: RoleName) => RoleDocument | undefined;

export interface ResolveOptions {
  /** Gather the roles reached (not counting the starting ones unless reached again). */
  readonly roles?: boolean;
  /** Gather the privileges of every role visited, starting ones included. */
  readonly privileges?: boolean;
  /** Visit only the starting roles (mongod's kDirectOnly). */
  readonly directOnly?: boolean;
}

export interface ResolvedRoles {
  readonly roles: RoleName[];
  readonly privileges: Privilege[];
}

/** `resolveRoles`: what the roles reachable from `start` hold. */
export function resolveRoles(start: readonly RoleName[], find: RoleFinder, options: ResolveOptions): ResolvedRoles {
  const reached: RoleName[] = [];
  const lists: (readonly Privilege[])[] = [];
  const seen = new Set<string>();
  let frontier = uniqueRoles(start);
  for (const name of frontier) seen.add(roleKey(name));
  while (frontier.length > 0) {
    const next: RoleName[] = [];
    for (const name of frontier) {
      const builtin = builtinRole(name.role, name.db);
      if (builtin !== undefined) {
        if (options.privileges === true) lists.push(builtin.privileges);
        continue;
      }
      const doc = find(name);
      if (doc === undefined) continue;
      if (options.privileges === true) lists.push(doc.privileges);
      for (const sub of doc.roles) {
        const key = roleKey(sub);
        if (seen.has(key)) continue;
        seen.add(key);
        reached.push({ role: sub.role, db: sub.db });
        if (options.directOnly !== true) next.push(sub);
      }
    }
    frontier = next;
  }
  return { roles: options.roles === true ? reached : [], privileges: options.privileges === true ? mergePrivileges(...lists) : [] };
}

/** Every privilege the roles grant, through the whole graph, merged (a user's privileges). */
export function privilegesOfRoles(roles: readonly RoleName[], find: RoleFinder): Privilege[] {
  return resolveRoles(roles, find, { privileges: true }).privileges;
}

/** Every role a holder of `roles` has: those, then the ones they inherit. */
export function allRolesOf(roles: readonly RoleName[], find: RoleFinder): RoleName[] {
  return uniqueRoles([...roles, ...resolveRoles(roles, find, { roles: true }).roles]);
}

/** mongod's `makeRoleNotFoundStatus`: "Could not find role: x@db" / "Could not find roles: a@db, b@db". */
export function roleNotFound(unknown: readonly RoleName[]): MongoError {
  const names = uniqueRoles(unknown).map(roleText);
  return new MongoError(ErrorCodes.RoleNotFound, `Could not find role${names.length > 1 ? 's' : ''}: ${names.join(', ')}`);
}

/** The names that are neither built in nor user-defined. */
export function missingRoles(names: readonly RoleName[], find: RoleFinder): RoleName[] {
  return names.filter((name) => !isBuiltinRole(name.role, name.db) && find(name) === undefined);
}

/** `rolesExist`: RoleNotFound for any role that is neither built in nor user-defined. */
export function checkRolesExist(names: readonly RoleName[], find: RoleFinder): void {
  const missing = missingRoles(names, find);
  if (missing.length > 0) throw roleNotFound(missing);
}

/**
 * `checkOkayToGrantRolesToRole`: `role` may inherit each of `toAdd` (not itself; from its own
 * database unless it lives on admin; existing; not already inheriting `role`, which would make a
 * cycle).
 */
export function checkRolesFitRole(role: RoleName, toAdd: readonly RoleName[], find: RoleFinder): void {
  for (const add of toAdd) {
    if (sameRole(add, role)) {
      throw new MongoError(ErrorCodes.InvalidRoleModification, `Cannot grant role ${roleText(role)} to itself.`);
    }
    if (role.db !== 'admin' && add.db !== role.db) {
      throw new MongoError(ErrorCodes.InvalidRoleModification, `Roles on the '${role.db}' database cannot be granted roles from other databases`);
    }
  }
  const missing = missingRoles(toAdd, find);
  if (missing.length > 0) {
    throw new MongoError(ErrorCodes.RoleNotFound, `Cannot grant roles to '${roleText(role)}': ${roleNotFound(missing).message}`);
  }
  if (resolveRoles(toAdd, find, { roles: true }).roles.some((r) => sameRole(r, role))) {
    throw new MongoError(ErrorCodes.InvalidRoleModification, `Granting roles to ${roleText(role)} would introduce a cycle in the role graph`);
  }
}

export interface DescribeOptions {
  /** rolesInfo `showPrivileges: true`. */
  readonly showPrivileges: boolean;
  /** rolesInfo `showAuthenticationRestrictions: true`. */
  readonly showAuthenticationRestrictions: boolean;
}

function copyPrivileges(privileges: readonly Privilege[]): Document[] {
  return privileges.map((p) => ({ resource: { ...p.resource }, actions: [...p.actions] }));
}

function copyRoles(roles: readonly RoleName[]): Document[] {
  return roles.map((r) => ({ role: r.role, db: r.db }));
}

/**
 * A user-defined role as rolesInfo shows it: the stored document's fields (privileges only when
 * asked, authentication restrictions as an empty list when asked), then what it inherits.
 * `listing` (rolesInfo: 1) puts `isBuiltin` before the inherited fields, naming it puts it last.
 */
function describeUserDefined(doc: RoleDocument, find: RoleFinder, options: DescribeOptions, listing: boolean): Document {
  const out: Document = { _id: doc._id, role: doc.role, db: doc.db };
  if (options.showPrivileges) out.privileges = copyPrivileges(doc.privileges);
  out.roles = copyRoles(doc.roles);
  if (options.showAuthenticationRestrictions) out.authenticationRestrictions = [];
  if (listing) out.isBuiltin = false;
  const data = resolveRoles(doc.roles, find, { roles: true, privileges: options.showPrivileges });
  out.inheritedRoles = copyRoles(uniqueRoles([...doc.roles, ...data.roles]));
  // The role's own privileges as stored, then its sub-roles' (merged among themselves only).
  if (options.showPrivileges) out.inheritedPrivileges = [...copyPrivileges(doc.privileges), ...copyPrivileges(data.privileges)];
  if (options.showAuthenticationRestrictions) out.inheritedAuthenticationRestrictions = [];
  if (!listing) out.isBuiltin = false;
  return out;
}

/** rolesInfo naming roles (`getRolesDescription`): each that exists, in the order asked (repeats kept). */
export function describeRolesByName(names: readonly RoleName[], find: RoleFinder, options: DescribeOptions): Document[] {
  const out: Document[] = [];
  for (const name of names) {
    const builtin = describeRole(name.role, name.db, { ...options, form: 'byName' });
    if (builtin !== undefined) {
      out.push(builtin);
      continue;
    }
    const doc = find(name);
    if (doc !== undefined) out.push(describeUserDefined(doc, find, options, false));
  }
  return out;
}

/**
 * rolesInfo: 1 (`getRoleDescriptionsForDB`): the database's built-in roles when asked, then its
 * user-defined roles.
 */
export function describeRolesOnDatabase(
  db: string,
  defined: readonly RoleDocument[],
  find: RoleFinder,
  showBuiltinRoles: boolean,
  options: DescribeOptions,
): Document[] {
  const builtins = showBuiltinRoles ? builtinRoleNames(db).flatMap((r) => describeRole(r.role, r.db, { ...options, form: 'listing' }) ?? []) : [];
  return [...builtins, ...defined.map((doc) => describeUserDefined(doc, find, options, true))];
}

/**
 * rolesInfo with `showPrivileges: "asUserFragment"` (`getRolesAsUserFragment`): the roles as a
 * user holding them would be shown.
 */
export function rolesAsUserFragment(names: readonly RoleName[], find: RoleFinder, showAuthenticationRestrictions: boolean): Document {
  const data = resolveRoles(names, find, { roles: true, privileges: true });
  const out: Document = {
    roles: copyRoles(names),
    inheritedRoles: copyRoles(uniqueRoles([...names, ...data.roles])),
    inheritedPrivileges: copyPrivileges(data.privileges),
  };
  if (showAuthenticationRestrictions) out.inheritedAuthenticationRestrictions = [];
  return out;
}
