import { isAuthorizedForActions, type ActionType, type Privilege, type ResourceSpec } from './privileges.js';
import type { Principal } from './principal.js';
import { privilegesOf, type RoleName } from './roles.js';
import { UserStore } from './userStore.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|::1)(:\d+)?$/;

/**
 * Whether and how authentication is enforced (--auth, --transitionToAuth), the users, and what a
 * principal may do. With transitionToAuth the server accepts authenticated and unauthenticated
 * clients alike and checks no privileges; logins still happen, so authenticated clients own
 * their sessions.
 */
export class AuthManager {
  readonly users = new UserStore();
  /** Keyed by a user's roles array, which is replaced (never mutated) when the roles change. */
  private readonly privilegeCache = new WeakMap<readonly RoleName[], Privilege[]>();

  constructor(
    /** --auth or --transitionToAuth: logins are possible and sessions get owners. */
    readonly enabled: boolean,
    readonly transitionToAuth: boolean,
  ) {}

  /** Privilege checks apply (auth on, not transitioning). */
  get enforced(): boolean {
    return this.enabled && !this.transitionToAuth;
  }

  /**
   * mongod's localhost exception: with auth on and no user yet, a client on the loopback
   * interface (`remote` is its "host:port") may create the first user (on admin); it closes once
   * a user exists.
   */
  localhostExceptionFor(remote: string): boolean {
    return this.enforced && this.users.size === 0 && LOOPBACK.test(remote);
  }

  /** The roles of the principal's user as the user store has them now (none for a dropped user). */
  rolesOf(principal: Principal): readonly RoleName[] {
    const user = principal.user;
    if (user === undefined) return [];
    return this.users.find(user.db, user.user)?.roles ?? [];
  }

  /** The privileges of the principal's user (none when nobody is logged in). */
  privilegesOf(principal: Principal): readonly Privilege[] {
    const roles = this.rolesOf(principal);
    let privileges = this.privilegeCache.get(roles);
    if (privileges === undefined) {
      privileges = privilegesOf(roles);
      this.privilegeCache.set(roles, privileges);
    }
    return privileges;
  }

  /** Whether the principal may do `action` on `resource`; always true when auth is not enforced. */
  mayDo(principal: Principal, resource: ResourceSpec, action: ActionType): boolean {
    if (!this.enforced) return true;
    return isAuthorizedForActions(this.privilegesOf(principal), resource, [action]);
  }
}
