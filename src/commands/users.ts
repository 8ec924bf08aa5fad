import { Int32, type Document } from 'bson';
import { createScramCredentials, isScramMechanism, type ScramMechanism } from '../auth/credentials.js';
import { builtinRoleNames, describeRole, isBuiltinRole } from '../auth/roles.js';
import type { RoleName, UserDocument } from '../auth/userStore.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { missingField, wrongType } from '../bson/idlErrors.js';
import { isPlainObject, trueValue } from '../bson/args.js';
import { onDatabase, onRoleDatabases } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/** createUser/grantRolesToUser role lists: "name" (a role on the command's db) or {role, db}. */
export function parseRoles(value: unknown, command: string, db: string): RoleName[] {
  if (value === undefined || value === null) throw missingField(`${command}.roles`);
  if (!Array.isArray(value)) throw wrongType(`${command}.roles`, value, 'array');
  return value.map((r: unknown) => {
    const role = typeof r === 'string' ? { role: r, db } : isPlainObject(r) ? { role: r.role, db: r.db } : undefined;
    if (role === undefined || typeof role.role !== 'string' || typeof role.db !== 'string') {
      throw new MongoError(ErrorCodes.BadValue, 'Role names must be either strings or objects');
    }
    if (!isBuiltinRole(role.role, role.db)) {
      throw new MongoError(ErrorCodes.RoleNotFound, `Could not find role: ${role.role}@${role.db}`);
    }
    return { role: role.role, db: role.db };
  });
}

function parseMechanisms(value: unknown): ScramMechanism[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new MongoError(ErrorCodes.BadValue, 'mechanisms field must not be empty');
  return value.map((m: unknown) => {
    if (!isScramMechanism(m)) throw new MongoError(ErrorCodes.BadValue, `Unknown auth mechanism '${String(m)}'`);
    return m;
  });
}

function requireName(ctx: CommandContext<never>): string {
  const name = ctx.body[ctx.name];
  if (typeof name !== 'string') throw wrongType(`${ctx.name}.${ctx.name}`, name, 'string');
  if (name.length === 0) throw new MongoError(ErrorCodes.BadValue, 'User document needs \'user\' field to be non-empty');
  return name;
}

function scramOptions(ctx: CommandContext<'params'>): { scramIterationCount: number; scramSHA256IterationCount: number } {
  return {
    scramIterationCount: ctx.services.params.int('scramIterationCount'),
    scramSHA256IterationCount: ctx.services.params.int('scramSHA256IterationCount'),
  };
}

function requirePassword(ctx: CommandContext<never>): string {
  const pwd = ctx.body.pwd;
  if (pwd === undefined) {
    throw new MongoError(ErrorCodes.BadValue, "Must provide a 'pwd' field for all user documents, except those with '$external' as the user's source db");
  }
  if (typeof pwd !== 'string') throw wrongType(`${ctx.name}.pwd`, pwd, 'string');
  if (pwd.length === 0) throw new MongoError(ErrorCodes.BadValue, 'Password cannot be empty');
  return pwd;
}

/** createUser (user_management_commands.cpp): SCRAM credentials, never the password, are stored. */
function createUser(ctx: CommandContext<'auth' | 'params'>): Document {
  const user = requireName(ctx);
  const pwd = requirePassword(ctx);
  const roles = parseRoles(ctx.body.roles, 'createUser', ctx.db);
  const customData = ctx.body.customData;
  if (customData !== undefined && !isPlainObject(customData)) throw wrongType('createUser.customData', customData, 'object');
  ctx.services.auth.users.create(
    { user, db: ctx.db, pwd, roles, customData: customData as Document | undefined, mechanisms: parseMechanisms(ctx.body.mechanisms) },
    scramOptions(ctx),
  );
  return {};
}

/** updateUser: a new password (new credentials), roles, customData or mechanisms. */
function updateUser(ctx: CommandContext<'auth' | 'params'>): Document {
  const name = requireName(ctx);
  const doc = ctx.services.auth.users.get(ctx.db, name);
  const { pwd, roles, customData } = ctx.body;
  if (pwd === undefined && roles === undefined && customData === undefined && ctx.body.mechanisms === undefined) {
    throw new MongoError(ErrorCodes.BadValue, 'Must specify at least one field to update in updateUser');
  }
  const mechanisms = parseMechanisms(ctx.body.mechanisms) ?? doc.mechanisms;
  const newRoles = roles === undefined ? undefined : parseRoles(roles, 'updateUser', ctx.db);
  if (customData !== undefined && !isPlainObject(customData)) throw wrongType('updateUser.customData', customData, 'object');
  if (pwd !== undefined) doc.credentials = createScramCredentials(name, requirePassword(ctx), { ...scramOptions(ctx), mechanisms });
  doc.mechanisms = mechanisms;
  if (newRoles !== undefined) doc.roles = newRoles;
  if (customData !== undefined) doc.customData = customData as Document;
  return {};
}

function dropUser(ctx: CommandContext<'auth' | 'catalog'>): Document {
  ctx.services.auth.users.drop(ctx.db, requireName(ctx));
  return {};
}

function dropAllUsersFromDatabase(ctx: CommandContext<'auth'>): Document {
  return { n: new Int32(ctx.services.auth.users.dropAll(ctx.db)) };
}

function changeRoles(ctx: CommandContext<'auth'>, grant: boolean): Document {
  const name = requireName(ctx);
  const doc = ctx.services.auth.users.get(ctx.db, name);
  const roles = parseRoles(ctx.body.roles, ctx.name, ctx.db);
  const same = (a: RoleName, b: RoleName) => a.role === b.role && a.db === b.db;
  // A new array, never a mutation: privileges are cached per roles array.
  if (grant) {
    doc.roles = [...doc.roles, ...roles.filter((role, i) => !doc.roles.some((r) => same(r, role)) && roles.findIndex((o) => same(o, role)) === i)];
  } else {
    doc.roles = doc.roles.filter((r) => !roles.some((role) => same(r, role)));
  }
  return {};
}

function grantRolesToUser(ctx: CommandContext<'auth'>): Document {
  return changeRoles(ctx, true);
}

function revokeRolesFromUser(ctx: CommandContext<'auth'>): Document {
  return changeRoles(ctx, false);
}

/** usersInfo: 1 (this db's users), a name, {user, db}, a list of those, or {forAllDBs: true}. */
function usersInfo(ctx: CommandContext<'auth'>): Document {
  const arg = ctx.body.usersInfo;
  const store = ctx.services.auth.users;
  let selected: UserDocument[];
  if (isPlainObject(arg) && trueValue(arg.forAllDBs)) {
    selected = store.all();
  } else if (typeof arg === 'string' || isPlainObject(arg) || Array.isArray(arg)) {
    const wanted = (Array.isArray(arg) ? arg : [arg]).map((u: unknown) => {
      if (typeof u === 'string') return { user: u, db: ctx.db };
      if (isPlainObject(u) && typeof u.user === 'string' && typeof u.db === 'string') return { user: u.user, db: u.db };
      throw new MongoError(ErrorCodes.BadValue, 'User name must be either a string or an object');
    });
    selected = wanted.flatMap((w) => store.find(w.db, w.user) ?? []);
  } else {
    selected = store.all().filter((u) => u.db === ctx.db);
  }
  const showCredentials = trueValue(ctx.body.showCredentials);
  const users = selected
    .sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0))
    .map((u) => {
      const out: Document = { _id: u._id, userId: u.userId, user: u.user, db: u.db };
      if (showCredentials) out.credentials = u.credentials;
      out.roles = u.roles.map((r) => ({ role: r.role, db: r.db }));
      if (u.customData !== undefined && ctx.body.showCustomData !== false) out.customData = u.customData;
      out.mechanisms = [...u.mechanisms];
      return out;
    });
  return { users };
}

/**
 * rolesInfo: the built-in roles asked for (a name, {role, db}, a list), or with `1` and
 * showBuiltinRoles every built-in role of the database. There are no user-defined roles yet.
 */
function rolesInfo(ctx: CommandContext<'auth'>): Document {
  const arg = ctx.body.rolesInfo;
  const showPrivileges = trueValue(ctx.body.showPrivileges);
  if (typeof arg === 'string' || isPlainObject(arg) || Array.isArray(arg)) {
    const roles = (Array.isArray(arg) ? arg : [arg]).map((r: unknown) => {
      if (typeof r === 'string') return { role: r, db: ctx.db };
      if (isPlainObject(r) && typeof r.role === 'string' && typeof r.db === 'string') return { role: r.role, db: r.db };
      throw new MongoError(ErrorCodes.BadValue, 'Role names must be either strings or objects');
    });
    return { roles: roles.flatMap((r) => describeRole(r.role, r.db, { showPrivileges }) ?? []) };
  }
  if (!trueValue(ctx.body.showBuiltinRoles)) return { roles: [] };
  return { roles: builtinRoleNames(ctx.db).flatMap((r) => describeRole(r.role, r.db, { showPrivileges, form: 'listing' }) ?? []) };
}

/** User management (user_management_commands.cpp). */
export const userCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'createUser',
    run: createUser,
    localhostException: true,
    supportsWriteConcern: true,
    privileges: (ctx) => [...onDatabase('createUser')(ctx), ...onRoleDatabases('grantRole')(ctx)],
    help: 'Adds a user to the system',
  }),
  defineCommand({
    name: 'updateUser',
    run: updateUser,
    supportsWriteConcern: true,
    privileges: (ctx) => [
      ...(ctx.body.pwd !== undefined ? onDatabase('changePassword')(ctx) : []),
      ...(ctx.body.customData !== undefined ? onDatabase('changeCustomData')(ctx) : []),
      ...onRoleDatabases('grantRole')(ctx),
      ...onRoleDatabases('revokeRole')(ctx),
    ],
    help: 'Used to update a user, for example to change its password',
  }),
  defineCommand({ name: 'dropUser', run: dropUser, supportsWriteConcern: true, privileges: onDatabase('dropUser'), help: 'Drops a single user.' }),
  defineCommand({
    name: 'dropAllUsersFromDatabase',
    run: dropAllUsersFromDatabase,
    supportsWriteConcern: true,
    privileges: onDatabase('dropUser'),
    help: 'Drops all users for a single database.',
  }),
  defineCommand({ name: 'grantRolesToUser', run: grantRolesToUser, supportsWriteConcern: true, privileges: onRoleDatabases('grantRole'), help: 'Grants roles to a user.' }),
  defineCommand({ name: 'revokeRolesFromUser', run: revokeRolesFromUser, supportsWriteConcern: true, privileges: onRoleDatabases('revokeRole'), help: 'Revokes roles from a user.' }),
  defineCommand({
    name: 'usersInfo',
    run: usersInfo,
    // Anyone may look at themselves; others need viewUser.
    privileges: (ctx) => {
      const me = ctx.client.principal.user;
      const arg = ctx.body.usersInfo;
      const self = me !== undefined && ((arg === me.user && ctx.db === me.db) || (typeof arg === 'object' && arg !== null && (arg as { user?: unknown }).user === me.user && (arg as { db?: unknown }).db === me.db));
      return self ? [] : onDatabase('viewUser')(ctx);
    },
    help: 'Returns information about users.',
  }),
  defineCommand({
    name: 'rolesInfo',
    run: rolesInfo,
    // A user may look at its own roles; anything else needs viewRole.
    privileges: (ctx) => {
      const mine = ctx.services.auth.rolesOf(ctx.client.principal);
      const arg = ctx.body.rolesInfo;
      const asked = (Array.isArray(arg) ? arg : [arg]).map((r: unknown) =>
        typeof r === 'string' ? { role: r, db: ctx.db } : (r as { role?: unknown; db?: unknown }),
      );
      const own = asked.length > 0 && asked.every((r) => mine.some((m) => m.role === r.role && m.db === r.db));
      return own ? [] : onDatabase('viewRole')(ctx);
    },
    help: 'Returns information about roles.',
  }),
];
