import { isAuthorizedForActions, type ActionType, type Privilege, type ResourceSpec } from './privileges.js';
import type { Principal } from './principal.js';
import { allRolesOf, privilegesOfRoles, type RoleFinder } from './roleGraph.js';
import { sameRole } from './roleNames.js';
import type { RoleName } from './roles.js';
import { RoleStore } from './roleStore.js';
import { UserStore } from './userStore.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|::1)(:\d+)?$/;

/**
 * Whether and how authentication is enforced (--auth, --transitionToAuth), the users and the
 * user-defined roles, and what a principal may do. With transitionToAuth the server accepts
 * authenticated and unauthenticated clients alike and checks no privileges; logins still happen,
 * so authenticated clients own their sessions.
 */
export class AuthManager {
  readonly users = new UserStore();
  /** The user-defined roles (mongod's admin.system.roles), in memory beside the users. */
  readonly roles = new RoleStore();
  /** Finds a user-defined role (for the role graph). */
  readonly findRole: RoleFinder = (name) => this.roles.find(name);
  /**
   * Keyed by a user's roles array, which is replaced (never mutated) when the roles change; an
   * entry holds for the role store generation it was computed at.
   */
  private readonly privilegeCache = new WeakMap<readonly RoleName[], { generation: number; privileges: Privilege[] }>();

  constructor(
    /** --auth or --transitionToAuth: logins are possible and sessions get owners. */
    readonly enabled: boolean,
    readonly transitionToAuth: boolean,
  ) {}

  /** Moves whenever a user or a user-defined role changes (both stores only count up). */
  get generation(): number {
    return this.users.generation + this.roles.generation;
  }

  /** Privilege checks apply (auth on, not transitioning). */
  get enforced(): boolean {
    return this.enabled && !this.transitionToAuth;
  }

  /**
   * mongod's localhost exception: with auth on and no user or role yet (hasAnyPrivilegeDocuments
   * looks at both), a client on the loopback interface (`remote` is its "host:port") may create
   * the first user (on admin); it closes once a user exists.
   */
  localhostExceptionFor(remote: string): boolean {
    return this.enforced && this.users.size === 0 && this.roles.size === 0 && LOOPBACK.test(remote);
  }

  /** The roles granted to the principal's user directly, as the user store has them now (none for a dropped user). */
  rolesOf(principal: Principal): readonly RoleName[] {
    const user = principal.user;
    if (user === undefined) return [];
    return this.users.find(user.db, user.user)?.roles ?? [];
  }

  /** Every role the principal's user has: its own, then those they inherit through user-defined roles. */
  allRolesOf(principal: Principal): RoleName[] {
    return allRolesOf(this.rolesOf(principal), this.findRole);
  }

  /** Whether the principal's user was granted `role` directly (mongod's `isAuthenticatedAsUserWithRole`). */
  hasRole(principal: Principal, role: RoleName): boolean {
    return this.rolesOf(principal).some((r) => sameRole(r, role));
  }

  /**
   * The privileges of the principal's user (none when nobody is logged in): the union over the
   * role graph, built-in and user-defined roles alike.
   */
  privilegesOf(principal: Principal): readonly Privilege[] {
    const roles = this.rolesOf(principal);
    const generation = this.roles.generation;
    const cached = this.privilegeCache.get(roles);
    if (cached !== undefined && cached.generation === generation) return cached.privileges;
    const privileges = privilegesOfRoles(roles, this.findRole);
    this.privilegeCache.set(roles, { generation, privileges });
    return privileges;
  }

  /** Whether the principal may do `action` on `resource`; always true when auth is not enforced. */
  mayDo(principal: Principal, resource: ResourceSpec, action: ActionType): boolean {
    if (!this.enforced) return true;
    return isAuthorizedForActions(this.privilegesOf(principal), resource, [action]);
  }

  /** dropRole: the role leaves every user and every role that held it, then goes. */
  dropRole(role: RoleName): void {
    const held = (r: RoleName): boolean => sameRole(r, role);
    this.users.pullRoles(held);
    this.roles.pullRoles(held);
    this.roles.remove((doc) => doc.role === role.role && doc.db === role.db);
  }

  /**
   * dropAllRolesFromDatabase: every role *named* on `db` (built-in ones too, as mongod's
   * `$pull: {roles: {db}}` takes them) leaves every user and role; the database's user-defined
   * roles go. Their number.
   */
  dropAllRoles(db: string): number {
    const onDb = (r: RoleName): boolean => r.db === db;
    this.users.pullRoles(onDb);
    this.roles.pullRoles(onDb);
    return this.roles.remove((doc) => doc.db === db);
  }
}
