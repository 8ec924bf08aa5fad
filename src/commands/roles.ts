import { Int32, type Document } from 'bson';
import type { Requirement } from '../auth/authorize.js';
import { checkPrivilegesFitRole, parsePrivilegeArray, safeBool } from '../auth/privilegeDocument.js';
import { ACTION_TYPES, matchTypeOf, mergePrivileges, normalizeActions, patternKey, Resource, type ActionType, type Privilege } from '../auth/privileges.js';
import { checkRolesExist, checkRolesFitRole, describeRolesByName, describeRolesOnDatabase, rolesAsUserFragment } from '../auth/roleGraph.js';
import { parseRoleList, parseRoleName, roleText, sameRole } from '../auth/roleNames.js';
import { isBuiltinRole, type RoleName } from '../auth/roles.js';
import { isPlainObject, numberValue, trueValue } from '../bson/args.js';
import { bsonText } from '../bson/bsonText.js';
import { missingField, wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/** The parts of a command its parsing reads. */
interface Named {
  readonly db: string;
  readonly name: string;
  readonly body: Document;
}

/** A role command's arguments (user_management_commands.idl), each present only when sent. */
interface RoleArgs {
  readonly name: RoleName;
  readonly privileges?: Privilege[];
  readonly roles?: RoleName[];
  /** authenticationRestrictions was sent (only an empty list gets this far). */
  readonly restrictions: boolean;
}

type Field = 'privileges' | 'roles' | 'authenticationRestrictions';

/**
 * The command's own argument: the role's name, a string (IDL `type: string`), on the command's
 * database.
 */
function roleNameArgument(ctx: Named): RoleName {
  const role = ctx.body[ctx.name];
  if (typeof role !== 'string') throw wrongType(`${ctx.name}.${ctx.name}`, role, 'string');
  return { role, db: ctx.db };
}

/**
 * `authenticationRestrictions` (array<address_restriction>). mongod enforces them when a user
 * logs in; pocketmongo does not, so it refuses any rather than store a restriction it would not
 * apply. An empty list (no restriction) is accepted.
 */
function parseRestrictions(value: unknown, path: string): void {
  if (!Array.isArray(value)) throw wrongType(path, value, 'array');
  value.forEach((r: unknown, i) => {
    if (!isPlainObject(r)) throw wrongType(`${path}.${i}`, r, 'object');
  });
  if (value.length > 0) throw new MongoError(ErrorCodes.CommandNotSupported, 'authenticationRestrictions are not supported by pocketmongo');
}

/**
 * Parses a role command as its IDL does: the role name, then each field in the order sent (type
 * errors as they come), then the required fields that are missing, in the IDL's order.
 */
function parseRoleArgs(ctx: Named, fields: readonly Field[], required: readonly Field[]): RoleArgs {
  const name = roleNameArgument(ctx);
  let privileges: Privilege[] | undefined;
  let roles: RoleName[] | undefined;
  let restrictions = false;
  for (const [field, value] of Object.entries(ctx.body)) {
    if (!fields.includes(field as Field)) continue;
    const path = `${ctx.name}.${field}`;
    if (field === 'privileges') privileges = parsePrivilegeArray(value, path);
    else if (field === 'roles') roles = parseRoleList(value, path, ctx.db);
    else {
      parseRestrictions(value, path);
      restrictions = true;
    }
  }
  for (const field of required) {
    if (ctx.body[field] === undefined) throw missingField(`${ctx.name}.${field}`);
  }
  return { name, privileges, roles, restrictions };
}

// ----- What each command needs (user_management_commands_common.cpp checkAuthForTypedCommand).
// mongod reports a refusal from these checks as "not authorized on <db> to execute command ...",
// which is what the pipeline answers for an unmet requirement.

function onRolesDatabases(roles: readonly RoleName[], action: ActionType): Requirement[] {
  return roles.map((r) => ({ resource: Resource.database(r.db), actions: [action] }));
}

/**
 * `checkAuthorizedToGrantPrivilege` / `...RevokePrivilege`: a privilege on a database or an exact
 * namespace needs the action on that database; any other one (cluster, any resource, a
 * collection name everywhere ...) needs it on admin.
 */
function onPrivilegesDatabases(privileges: readonly Privilege[], action: ActionType): Requirement[] {
  return privileges.map((p) => {
    const type = matchTypeOf(p.resource);
    const db = type === 'database' || type === 'exact_namespace' ? (p.resource as { db: string }).db : 'admin';
    return { resource: Resource.database(db), actions: [action] };
  });
}

function restrictionsRequirement(args: RoleArgs, db: string): Requirement[] {
  return args.restrictions ? [{ resource: Resource.database(db), actions: ['setAuthenticationRestriction'] }] : [];
}

// ----- The commands (user_management_commands.cpp).

function notBuiltin(name: RoleName): void {
  if (isBuiltinRole(name.role, name.db)) {
    throw new MongoError(ErrorCodes.BadValue, `${roleText(name)} is a built-in role and cannot be modified`);
  }
}

const CREATE_FIELDS: readonly Field[] = ['privileges', 'roles', 'authenticationRestrictions'];

function createRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, CREATE_FIELDS, ['privileges', 'roles']);
  const { name } = args;
  if (name.role === '') throw new MongoError(ErrorCodes.BadValue, 'Role name must be non-empty');
  if (name.db === 'local') throw new MongoError(ErrorCodes.BadValue, 'Cannot create roles in the local database');
  if (name.db === '$external') throw new MongoError(ErrorCodes.BadValue, 'Cannot create roles in the $external database');
  if (isBuiltinRole(name.role, name.db)) throw new MongoError(ErrorCodes.BadValue, 'Cannot create roles with the same name as a built-in role');
  const auth = ctx.services.auth;
  const roles = args.roles ?? [];
  const privileges = args.privileges ?? [];
  checkRolesFitRole(name, roles, auth.findRole);
  checkPrivilegesFitRole(name.db, privileges);
  auth.roles.insert(name, privileges, roles);
  return {};
}

function updateRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, CREATE_FIELDS, []);
  if (args.privileges === undefined && args.roles === undefined && !args.restrictions) {
    throw new MongoError(ErrorCodes.BadValue, 'Must specify at least one field to update in updateRole');
  }
  const auth = ctx.services.auth;
  checkRolesExist([args.name], auth.findRole);
  if (args.roles !== undefined) checkRolesFitRole(args.name, args.roles, auth.findRole);
  if (args.privileges !== undefined) checkPrivilegesFitRole(args.name.db, args.privileges);
  auth.roles.update(args.name, { privileges: args.privileges, roles: args.roles });
  return {};
}

function dropRole(ctx: CommandContext<'auth'>): Document {
  const name = roleNameArgument(ctx);
  notBuiltin(name);
  const auth = ctx.services.auth;
  checkRolesExist([name], auth.findRole);
  auth.dropRole(name);
  return {};
}

function dropAllRolesFromDatabase(ctx: CommandContext<'auth'>): Document {
  return { n: new Int32(ctx.services.auth.dropAllRoles(ctx.db)) };
}

function nonEmpty<T>(list: readonly T[] | undefined, command: string, field: 'roles' | 'privileges'): readonly T[] {
  if (list === undefined || list.length === 0) {
    throw new MongoError(ErrorCodes.BadValue, `${command} command requires a non-empty "${field}" array`);
  }
  return list;
}

/** A role's current direct privileges or roles; none for a role that does not exist (the update then says so). */
function current(ctx: CommandContext<'auth'>, name: RoleName): { privileges: readonly Privilege[]; roles: readonly RoleName[] } {
  return ctx.services.auth.roles.find(name) ?? { privileges: [], roles: [] };
}

function grantRolesToRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, ['roles'], ['roles']);
  const toAdd = nonEmpty(args.roles, ctx.name, 'roles');
  notBuiltin(args.name);
  const auth = ctx.services.auth;
  checkRolesFitRole(args.name, toAdd, auth.findRole);
  const roles = current(ctx, args.name).roles;
  auth.roles.update(args.name, { roles: [...roles, ...toAdd.filter((r) => !roles.some((o) => sameRole(o, r)))] });
  return {};
}

function revokeRolesFromRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, ['roles'], ['roles']);
  const toRemove = nonEmpty(args.roles, ctx.name, 'roles');
  notBuiltin(args.name);
  const roles = current(ctx, args.name).roles;
  ctx.services.auth.roles.update(args.name, { roles: roles.filter((r) => !toRemove.some((o) => sameRole(o, r))) });
  return {};
}

function grantPrivilegesToRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, ['privileges'], ['privileges']);
  const toAdd = nonEmpty(args.privileges, ctx.name, 'privileges');
  notBuiltin(args.name);
  checkPrivilegesFitRole(args.name.db, toAdd);
  const privileges = current(ctx, args.name).privileges;
  ctx.services.auth.roles.update(args.name, { privileges: mergePrivileges(privileges, toAdd) });
  return {};
}

/** An ActionSet's bits: `anyAction` stands for every action (itself included). */
function expand(actions: readonly ActionType[]): Set<ActionType> {
  return new Set(actions.includes('anyAction') ? ACTION_TYPES : actions);
}

/**
 * `ActionSet::removeAllActionsFromSet`: removing any action also clears `anyAction`, so a
 * privilege with every action keeps the others, listed one by one.
 */
function withoutActions(actions: readonly ActionType[], removed: readonly ActionType[]): ActionType[] {
  const left = expand(actions);
  const gone = expand(removed);
  for (const action of gone) left.delete(action);
  if (gone.size > 0) left.delete('anyAction');
  return normalizeActions(left);
}

function revokePrivilegesFromRole(ctx: CommandContext<'auth'>): Document {
  const args = parseRoleArgs(ctx, ['privileges'], ['privileges']);
  const toRemove = nonEmpty(args.privileges, ctx.name, 'privileges');
  notBuiltin(args.name);
  const privileges = current(ctx, args.name).privileges.map((p) => ({ resource: p.resource, actions: [...p.actions] }));
  for (const remove of toRemove) {
    const key = patternKey(remove.resource);
    const i = privileges.findIndex((p) => patternKey(p.resource) === key);
    if (i < 0) continue;
    const actions = withoutActions(privileges[i]!.actions, remove.actions);
    if (actions.length === 0) privileges.splice(i, 1);
    else privileges[i] = { resource: privileges[i]!.resource, actions };
  }
  ctx.services.auth.roles.update(args.name, { privileges });
  return {};
}

// ----- rolesInfo.

type PrivilegeFormat = 'omit' | 'show' | 'asUserFragment';

interface RolesInfoArgs {
  /** Undefined for `rolesInfo: 1` (every role of the database). */
  readonly names: RoleName[] | undefined;
  readonly showPrivileges: PrivilegeFormat;
  readonly showBuiltinRoles: boolean;
  readonly showAuthenticationRestrictions: boolean;
}

/** `ParsedPrivilegeFormat::parseFromBSON`: a bool or number, or the string "asUserFragment". */
function privilegeFormat(value: unknown): PrivilegeFormat {
  if (value === undefined) return 'omit';
  if (typeof value === 'boolean' || numberValue(value) !== undefined) return trueValue(value) ? 'show' : 'omit';
  if (value === 'asUserFragment') return 'asUserFragment';
  throw new MongoError(
    ErrorCodes.BadValue,
    `Failed to parse 'showPrivileges'. 'showPrivileges' should either be a boolean or the string 'asUserFragment', given: showPrivileges: ${bsonText(value)}`,
  );
}

/** `UMCInfoCommandArg<RoleName>`: 1, a name, `{role, db}`, or a list of names and documents. */
function rolesInfoNames(value: unknown, db: string): RoleName[] | undefined {
  const n = numberValue(value);
  if (n !== undefined && Math.trunc(n) === 1) return undefined;
  const one = (v: unknown): RoleName => (typeof v === 'string' ? { role: v, db } : parseRoleName(v));
  return Array.isArray(value) ? value.map(one) : [one(value)];
}

function parseRolesInfo(ctx: Named): RolesInfoArgs {
  const names = rolesInfoNames(ctx.body.rolesInfo, ctx.db);
  let showPrivileges: PrivilegeFormat = 'omit';
  let showBuiltinRoles = false;
  let showAuthenticationRestrictions = false;
  for (const [field, value] of Object.entries(ctx.body)) {
    if (field === 'showPrivileges') showPrivileges = privilegeFormat(value);
    else if (field === 'showBuiltinRoles') showBuiltinRoles = safeBool(value, 'rolesInfo.showBuiltinRoles');
    else if (field === 'showAuthenticationRestrictions') showAuthenticationRestrictions = safeBool(value, 'rolesInfo.showAuthenticationRestrictions');
  }
  return { names, showPrivileges, showBuiltinRoles, showAuthenticationRestrictions };
}

/**
 * rolesInfo: the roles named (built-in or user-defined; unknown ones are left out), or with `1`
 * the database's user-defined roles (and its built-in ones with showBuiltinRoles).
 */
function rolesInfo(ctx: CommandContext<'auth'>): Document {
  const args = parseRolesInfo(ctx);
  const auth = ctx.services.auth;
  const options = { showPrivileges: args.showPrivileges !== 'omit', showAuthenticationRestrictions: args.showAuthenticationRestrictions };
  if (args.names === undefined) {
    if (args.showPrivileges === 'asUserFragment') {
      throw new MongoError(ErrorCodes.IllegalOperation, 'Cannot get user fragment for all roles in a database');
    }
    return { roles: describeRolesOnDatabase(ctx.db, auth.roles.onDatabase(ctx.db), auth.findRole, args.showBuiltinRoles, options) };
  }
  if (args.showPrivileges === 'asUserFragment') {
    return { userFragment: rolesAsUserFragment(args.names, auth.findRole, args.showAuthenticationRestrictions) };
  }
  return { roles: describeRolesByName(args.names, auth.findRole, options) };
}

/** User-defined roles (user_management_commands.cpp) and rolesInfo; help texts are the IDL's descriptions. */
export const roleCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'createRole',
    run: createRole,
    strict: true,
    fields: CREATE_FIELDS,
    supportsWriteConcern: true,
    privileges: (ctx) => {
      const args = parseRoleArgs(ctx, CREATE_FIELDS, ['privileges', 'roles']);
      return [
        { resource: Resource.database(ctx.db), actions: ['createRole'] },
        ...onRolesDatabases(args.roles ?? [], 'grantRole'),
        ...onPrivilegesDatabases(args.privileges ?? [], 'grantRole'),
        ...restrictionsRequirement(args, ctx.db),
      ];
    },
    help: 'Create a new role',
  }),
  defineCommand({
    name: 'updateRole',
    run: updateRole,
    strict: true,
    fields: CREATE_FIELDS,
    supportsWriteConcern: true,
    // What it might revoke is unknown, so it needs to be able to revoke any role.
    privileges: (ctx) => {
      const args = parseRoleArgs(ctx, CREATE_FIELDS, []);
      return [
        { resource: Resource.anyNormalResource(), actions: ['revokeRole'] },
        ...onRolesDatabases(args.roles ?? [], 'grantRole'),
        ...onPrivilegesDatabases(args.privileges ?? [], 'grantRole'),
        ...restrictionsRequirement(args, ctx.db),
      ];
    },
    help: 'Update an existing role',
  }),
  defineCommand({
    name: 'dropRole',
    run: dropRole,
    strict: true,
    supportsWriteConcern: true,
    privileges: (ctx) => {
      roleNameArgument(ctx);
      return [{ resource: Resource.database(ctx.db), actions: ['dropRole'] }];
    },
    help: 'Drops a single role.  Before deleting the role completely it must remove it from any users or roles that reference it.  If any errors occur in the middle of that process it\'s possible to be left in a state where the role has been removed from some user/roles but otherwise still exists.',
  }),
  defineCommand({
    name: 'dropAllRolesFromDatabase',
    run: dropAllRolesFromDatabase,
    strict: true,
    supportsWriteConcern: true,
    privileges: (ctx) => [{ resource: Resource.database(ctx.db), actions: ['dropRole'] }],
    help: 'Drops all roles from the given database.  Before deleting the roles completely it must remove them from any users or other roles that reference them.  If any errors occur in the middle of that process it\'s possible to be left in a state where the roles have been removed from some user/roles but otherwise still exist.',
  }),
  defineCommand({
    name: 'grantRolesToRole',
    run: grantRolesToRole,
    strict: true,
    fields: ['roles'],
    supportsWriteConcern: true,
    privileges: (ctx) => onRolesDatabases(parseRoleArgs(ctx, ['roles'], ['roles']).roles ?? [], 'grantRole'),
    help: 'Grant roles to a role',
  }),
  defineCommand({
    name: 'revokeRolesFromRole',
    run: revokeRolesFromRole,
    strict: true,
    fields: ['roles'],
    supportsWriteConcern: true,
    privileges: (ctx) => onRolesDatabases(parseRoleArgs(ctx, ['roles'], ['roles']).roles ?? [], 'revokeRole'),
    help: 'Revoke roles from a role',
  }),
  defineCommand({
    name: 'grantPrivilegesToRole',
    run: grantPrivilegesToRole,
    strict: true,
    fields: ['privileges'],
    supportsWriteConcern: true,
    privileges: (ctx) => onPrivilegesDatabases(parseRoleArgs(ctx, ['privileges'], ['privileges']).privileges ?? [], 'grantRole'),
    help: 'Grants privileges to a role',
  }),
  defineCommand({
    name: 'revokePrivilegesFromRole',
    run: revokePrivilegesFromRole,
    strict: true,
    fields: ['privileges'],
    supportsWriteConcern: true,
    privileges: (ctx) => onPrivilegesDatabases(parseRoleArgs(ctx, ['privileges'], ['privileges']).privileges ?? [], 'revokeRole'),
    help: 'Grants privileges to a role',
  }),
  defineCommand({
    name: 'rolesInfo',
    run: rolesInfo,
    strict: true,
    fields: ['showPrivileges', 'showBuiltinRoles', 'showAuthenticationRestrictions'],
    // The database's roles need viewRole there; a role the user was granted may always be seen,
    // any other needs viewRole on its database.
    privileges: (ctx) => {
      const args = parseRolesInfo(ctx);
      if (args.names === undefined) return [{ resource: Resource.database(ctx.db), actions: ['viewRole'] }];
      const principal = ctx.client.principal;
      return args.names
        .filter((name) => !ctx.services.auth.hasRole(principal, name))
        .map((name) => ({ resource: Resource.database(name.db), actions: ['viewRole'] }));
    },
    help: 'returns information about roles.',
  }),
];
