import type { ConnectionState } from '../net/connectionState.js';
import { UserStore } from './userStore.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|::1)(:\d+)?$/;

/**
 * Whether and how authentication is enforced (--auth, --transitionToAuth), and the users.
 * With transitionToAuth the server accepts authenticated and unauthenticated clients alike and
 * checks no privileges; logins still happen, so authenticated clients own their sessions.
 */
export class AuthManager {
  readonly users = new UserStore();

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
   * interface may create the first user (on admin); it closes once a user exists.
   */
  localhostExceptionFor(connection: ConnectionState): boolean {
    return this.enforced && this.users.size === 0 && LOOPBACK.test(connection.remote);
  }
}
