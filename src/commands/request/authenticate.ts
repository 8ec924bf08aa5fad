import type { AuthManager } from '../../auth/manager.js';
import { ErrorCodes, MongoError } from '../../errors.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../command.js';

/**
 * Whether the client may skip login for this command under the localhost exception: the
 * command allows it, auth is on, no user exists yet, and the client is on the loopback interface.
 */
export function usesLocalhostException(auth: AuthManager, client: Client, spec: CommandSpec): boolean {
  return spec.localhostException && auth.localhostExceptionFor(client.remote);
}

/**
 * Stage 2, authenticate (checkAuthorizationImplPreParse, commands.cpp): with auth enforced, a
 * command that requires authentication is refused to a client that has not logged in — except
 * the first createUser on admin from localhost (the localhost exception).
 */
export function checkAuthenticated(auth: AuthManager, client: Client, spec: CommandSpec, db: string): void {
  if (!auth.enforced || !spec.requiresAuth || client.principal.user !== undefined) return;
  if (db === 'admin' && usesLocalhostException(auth, client, spec)) return;
  throw new MongoError(ErrorCodes.Unauthorized, `Command ${spec.name} requires authentication`);
}
