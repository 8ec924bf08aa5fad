import type { ScramServerConversation } from './scram.js';

/**
 * The user a connection authenticated as (mongod 7.0 allows one per connection). Its roles are
 * read from the user store on every check, so grants and drops apply to open connections too.
 */
export interface AuthenticatedUser {
  readonly user: string;
  readonly db: string;
}

/** Who a client is to authentication and authorization: its user and the SASL conversation under way. */
export class Principal {
  /** Set by a successful SASL conversation, cleared by logout. */
  user: AuthenticatedUser | undefined;
  /** The SASL conversation in progress (saslStart → saslContinue), if any. */
  sasl: { conversation: ScramServerConversation; db: string; speculative: boolean } | undefined;

  /** "user@db" of the logged-in user, if any (mongod's UserName::getDisplayName). */
  get userName(): string | undefined {
    const user = this.user;
    return user === undefined ? undefined : `${user.user}@${user.db}`;
  }
}
