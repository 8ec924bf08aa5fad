import type { CommandContext, CommandSpec } from '../commands/types.js';
import { bsonText } from '../bson/bsonText.js';
import { redactForLog } from '../bson/redact.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { ConnectionState } from '../net/connectionState.js';
import type { ServerContext } from '../serverContext.js';
import { isAuthorizedForActions, type ActionType, type Privilege, type ResourceSpec } from './privileges.js';
import { privilegesOf, type RoleName } from './roles.js';

/** What a command needs: these actions on this resource. */
export interface Requirement {
  readonly resource: ResourceSpec;
  readonly actions: readonly ActionType[];
}

/** Keyed by a user's roles array, which is replaced (never mutated) when the roles change. */
const privilegeCache = new WeakMap<readonly RoleName[], Privilege[]>();

/** The roles of the connection's user as the user store has them now (none for a dropped user). */
export function rolesOfConnection(server: ServerContext, connection: ConnectionState): readonly RoleName[] {
  const user = connection.user;
  if (user === undefined) return [];
  return server.auth.users.find(user.db, user.user)?.roles ?? [];
}

/** The privileges of the connection's user (none when nobody is logged in). */
export function privilegesOfConnection(server: ServerContext, connection: ConnectionState): readonly Privilege[] {
  const roles = rolesOfConnection(server, connection);
  let privileges = privilegeCache.get(roles);
  if (privileges === undefined) {
    privileges = privilegesOf(roles);
    privilegeCache.set(roles, privileges);
  }
  return privileges;
}

/** "user@db" of the connection's user, if someone is logged in. */
export function userName(connection: ConnectionState): string | undefined {
  const user = connection.user;
  return user === undefined ? undefined : `${user.user}@${user.db}`;
}

/** Whether the caller may do `action` on `resource`; always true when auth is not enforced. */
export function mayDo(ctx: Pick<CommandContext, 'server' | 'connection'>, resource: ResourceSpec, action: ActionType): boolean {
  if (!ctx.server.auth.enforced) return true;
  return isAuthorizedForActions(privilegesOfConnection(ctx.server, ctx.connection), resource, [action]);
}

/**
 * Before anything else (checkAuthorizationImplPreParse, commands.cpp): with auth enforced, a
 * command that requires authentication is refused to a client that has not logged in — except
 * the first createUser on admin from localhost (the localhost exception).
 */
export function checkAuthenticated(server: ServerContext, connection: ConnectionState, spec: CommandSpec, db: string): void {
  if (!server.auth.enforced || spec.requiresAuth === false || connection.user !== undefined) return;
  if (spec.localhostException && db === 'admin' && server.auth.localhostExceptionFor(connection)) return;
  throw new MongoError(ErrorCodes.Unauthorized, `Command ${spec.name} requires authentication`);
}

/** mongod's generic refusal: "not authorized on <db> to execute command { ... }". */
export function notAuthorized(ctx: CommandContext): MongoError {
  return new MongoError(ErrorCodes.Unauthorized, `not authorized on ${ctx.db} to execute command ${bsonText(redactForLog(ctx.body))}`);
}

/** The command's privilege check (its `privileges` trait), after the session is set up. */
export function checkPrivileges(ctx: CommandContext, spec: CommandSpec): void {
  if (!ctx.server.auth.enforced || spec.privileges === undefined || ctx.connection.user === undefined) return;
  const privileges = privilegesOfConnection(ctx.server, ctx.connection);
  for (const requirement of spec.privileges(ctx)) {
    if (!isAuthorizedForActions(privileges, requirement.resource, requirement.actions)) throw notAuthorized(ctx);
  }
}
