import type { AuthManager } from '../../auth/manager.js';
import { notAuthorized } from '../../auth/authorize.js';
import { isAuthorizedForActions } from '../../auth/privileges.js';
import type { CommandContext, CommandSpec } from '../command.js';

/**
 * Stage 4, authorize: the command's privileges (its `privileges` trait), checked once the session
 * is attached, against the principal's roles as the user store has them now.
 */
export function checkPrivileges(auth: AuthManager, ctx: CommandContext, spec: CommandSpec): void {
  const principal = ctx.client.principal;
  if (!auth.enforced || spec.privileges === undefined || principal.user === undefined) return;
  const privileges = auth.privilegesOf(principal);
  for (const requirement of spec.privileges(ctx)) {
    if (!isAuthorizedForActions(privileges, requirement.resource, requirement.actions)) throw notAuthorized(ctx.db, ctx.body);
  }
}
