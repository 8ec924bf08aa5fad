import { Int32, type Document } from 'bson';
import { createScramCredentials, isScramMechanism, type ScramMechanism } from '../auth/credentials.js';
import { Resource } from '../auth/privileges.js';
import { checkRolesExist, resolveRoles } from '../auth/roleGraph.js';
import { parseRoleList, uniqueRoles } from '../auth/roleNames.js';
import type { RoleName, UserDocument } from '../auth/userStore.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { missingField, wrongType } from '../bson/idlErrors.js';
import { isPlainObject, trueValue } from '../bson/args.js';
import { onDatabase, onRoleDatabases } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/**
 * createUser/updateUser/grantRolesToUser role lists (array<RoleNameOrString>): "name" (a role on
 * the command's db) or {role, db}, de-duplicated. Whether they exist is checked later, as mongod
 * does once it holds the user-management lock (`rolesExist`).
 */
export function parseRoles(value: unknown, command: string, db: string): RoleName[] {
  if (value === undefined || value === null) throw missingField(`${command}.roles`);
  return parseRoleList(value, `${command}.roles`, db);
}

/**
 * `authenticationRestrictions` on a user: mongod enforces them at login; pocketmongo does not, so
 * any restriction is refused rather than stored unenforced. An empty list is accepted.
 */
function refuseRestrictions(value: unknown, command: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw wrongType(`${command}.authenticationRestrictions`, value, 'array');
  if (value.length > 0) throw new MongoError(ErrorCodes.CommandNotSupported, 'authenticationRestrictions are not supported by pocketmongo');
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
  refuseRestrictions(ctx.body.authenticationRestrictions, 'createUser');
  checkRolesExist(roles, ctx.services.auth.findRole);
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
  if (pwd === undefined && roles === undefined && customData === undefined && ctx.body.mechanisms === undefined && ctx.body.authenticationRestrictions === undefined) {
    throw new MongoError(ErrorCodes.BadValue, 'Must specify at least one field to update in updateUser');
  }
  const mechanisms = parseMechanisms(ctx.body.mechanisms) ?? doc.mechanisms;
  const newRoles = roles === undefined ? undefined : parseRoles(roles, 'updateUser', ctx.db);
  if (customData !== undefined && !isPlainObject(customData)) throw wrongType('updateUser.customData', customData, 'object');
  refuseRestrictions(ctx.body.authenticationRestrictions, 'updateUser');
  if (newRoles !== undefined) checkRolesExist(newRoles, ctx.services.auth.findRole);
  if (pwd !== undefined) doc.credentials = createScramCredentials(name, requirePassword(ctx), { ...scramOptions(ctx), mechanisms });
  doc.mechanisms = mechanisms;
  if (newRoles !== undefined) doc.roles = newRoles;
  if (customData !== undefined) doc.customData = customData as Document;
  ctx.services.auth.users.touch();
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
  const roles = parseRoles(ctx.body.roles, ctx.name, ctx.db);
  if (roles.length === 0) throw new MongoError(ErrorCodes.BadValue, `${ctx.name} command requires a non-empty "roles" array`);
  const doc = ctx.services.auth.users.get(ctx.db, name);
  checkRolesExist(roles, ctx.services.auth.findRole);
  const same = (a: RoleName, b: RoleName) => a.role === b.role && a.db === b.db;
  // A new array, never a mutation: privileges are cached per roles array.
  if (grant) {
    doc.roles = [...doc.roles, ...roles.filter((role, i) => !doc.roles.some((r) => same(r, role)) && roles.findIndex((o) => same(o, role)) === i)];
  } else {
    doc.roles = doc.roles.filter((r) => !roles.some((role) => same(r, role)));
  }
  ctx.services.auth.users.touch();
  return {};
}

function grantRolesToUser(ctx: CommandContext<'auth'>): Document {
  return changeRoles(ctx, true);
}

function revokeRolesFromUser(ctx: CommandContext<'auth'>): Document {
  return changeRoles(ctx, false);
}

/** The user documents' mechanisms (the names of its credentials). */
function mechanismsOf(u: UserDocument): string[] {
  return [...u.mechanisms];
}

/**
 * A user as usersInfo shows it without privileges (mongod runs an aggregation on system.users):
 * the stored fields in their order, credentials only when asked, customData unless turned off,
 * and `mechanisms` added last.
 */
function userSummary(u: UserDocument, showCredentials: boolean, showCustomData: boolean): Document {
  const out: Document = {};
  for (const [field, value] of Object.entries(u)) {
    if (field === 'mechanisms') continue;
    if (field === 'credentials' && !showCredentials) continue;
    if (field === 'customData' && !showCustomData) continue;
    out[field] = field === 'roles' ? (value as RoleName[]).map((r) => ({ role: r.role, db: r.db })) : value;
  }
  out.mechanisms = mechanismsOf(u);
  return out;
}

/**
 * A user as usersInfo shows it with showPrivileges or showAuthenticationRestrictions (mongod's
 * `getUserDescription`): the stored fields with `mechanisms` where the credentials are, then the
 * roles held (its own and those they inherit), every privilege they grant (merged), and the
 * inherited authentication restrictions (none: pocketmongo refuses them).
 */
function userDescription(
  u: UserDocument,
  ctx: CommandContext<'auth'>,
  options: { showCredentials: boolean; showCustomData: boolean; showPrivileges: boolean; showAuthenticationRestrictions: boolean },
): Document {
  const out: Document = {};
  for (const [field, value] of Object.entries(u)) {
    if (field === 'mechanisms') continue;
    if (field === 'credentials') {
      out.mechanisms = mechanismsOf(u);
      if (options.showCredentials) out.credentials = value;
      continue;
    }
    if (field === 'customData' && !options.showCustomData) continue;
    out[field] = field === 'roles' ? (value as RoleName[]).map((r) => ({ role: r.role, db: r.db })) : value;
  }
  if (options.showAuthenticationRestrictions) out.authenticationRestrictions = [];
  // Every role the user holds is visited, its own roles included.
  const data = resolveRoles(u.roles, ctx.services.auth.findRole, { roles: true, privileges: options.showPrivileges });
  out.inheritedRoles = uniqueRoles([...u.roles, ...data.roles]).map((r) => ({ role: r.role, db: r.db }));
  if (options.showPrivileges) out.inheritedPrivileges = data.privileges.map((p) => ({ resource: { ...p.resource }, actions: [...p.actions] }));
  out.inheritedAuthenticationRestrictions = [];
  return out;
}

function byUserThenDb(a: UserDocument, b: UserDocument): number {
  if (a.user !== b.user) return a.user < b.user ? -1 : 1;
  return a.db < b.db ? -1 : a.db > b.db ? 1 : 0;
}

/** usersInfo: 1 (this db's users), a name, {user, db}, a list of those, or {forAllDBs: true}. */
function usersInfo(ctx: CommandContext<'auth'>): Document {
  const arg = ctx.body.usersInfo;
  const store = ctx.services.auth.users;
  const showCredentials = trueValue(ctx.body.showCredentials);
  const showCustomData = ctx.body.showCustomData === undefined || trueValue(ctx.body.showCustomData);
  const showPrivileges = trueValue(ctx.body.showPrivileges);
  const showAuthenticationRestrictions = trueValue(ctx.body.showAuthenticationRestrictions);
  const exact = typeof arg === 'string' || Array.isArray(arg) || (isPlainObject(arg) && !trueValue(arg.forAllDBs));
  if (showPrivileges || showAuthenticationRestrictions) {
    if (!exact || ctx.body.filter !== undefined) {
      throw new MongoError(ErrorCodes.IllegalOperation, 'Privilege or restriction details require exact-match usersInfo queries');
    }
    // In the order asked, users that do not exist left out.
    const found = wantedUsers(arg, ctx.db).flatMap((w) => store.find(w.db, w.user) ?? []);
    return { users: found.map((u) => userDescription(u, ctx, { showCredentials, showCustomData, showPrivileges, showAuthenticationRestrictions })) };
  }
  let selected: UserDocument[];
  if (isPlainObject(arg) && trueValue(arg.forAllDBs)) selected = store.all();
  else if (exact) selected = wantedUsers(arg, ctx.db).flatMap((w) => store.find(w.db, w.user) ?? []);
  else selected = store.all().filter((u) => u.db === ctx.db);
  // One document per user, sorted by user then db (mongod's $sort).
  const unique = [...new Map(selected.map((u) => [u._id, u])).values()];
  return { users: unique.sort(byUserThenDb).map((u) => userSummary(u, showCredentials, showCustomData)) };
}

function wantedUsers(arg: unknown, db: string): { user: string; db: string }[] {
  return (Array.isArray(arg) ? arg : [arg]).map((u: unknown) => {
    if (typeof u === 'string') return { user: u, db };
    if (isPlainObject(u) && typeof u.user === 'string' && typeof u.db === 'string') return { user: u.user, db: u.db };
    throw new MongoError(ErrorCodes.BadValue, 'User name must be either a string or an object');
  });
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
      // Setting the roles may revoke any role, so it needs to be able to revoke any role.
      ...(ctx.body.roles !== undefined ? [{ resource: Resource.anyNormalResource(), actions: ['revokeRole' as const] }, ...onRoleDatabases('grantRole')(ctx)] : []),
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
];
