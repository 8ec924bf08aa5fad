import type { AuthManager } from '../auth/manager.js';
import { ErrorCodes, MongoError } from '../errors.js';
import type { Principal } from '../auth/principal.js';
import { NO_AUTH_UID, userDigest, type LogicalSessionId, type LsidFromClient } from './logicalSessionId.js';

/** Who owns the sessions a connection's commands create or use. */
export interface SessionOwner {
  /** SHA-256 of "user@db", or of "" when auth is off. */
  readonly uid: Buffer;
  /** "user@db" when auth is on and someone is logged in. */
  readonly user: string | undefined;
}

const NO_AUTH_OWNER: SessionOwner = { uid: NO_AUTH_UID, user: undefined };

/**
 * The owner resolver (logical_session_id_helpers.cpp getLogicalSessionUserDigestForLoggedInUser),
 * one per server: it keeps each user's owner (and its SHA-256) so a digest is computed once.
 * With auth off every session belongs to nobody: uid is SHA-256("") even if the client logged in
 * (getAuthenticatedUser checks isAuthEnabled first, sessions-semantics.md §1.1). With auth on, the
 * logged-in user owns it: uid = SHA-256("user@db"). Nobody logged in under --auth: refused; under
 * --transitionToAuth an unauthenticated client's sessions have no owner.
 */
export class OwnerResolver {
  private readonly owners = new Map<string, SessionOwner>();

  constructor(private readonly auth: AuthManager) {}

  resolve(principal: Principal): SessionOwner {
    if (!this.auth.enabled) return NO_AUTH_OWNER;
    const name = principal.userName;
    if (name === undefined) {
      if (this.auth.transitionToAuth) return NO_AUTH_OWNER;
      throw new MongoError(ErrorCodes.Unauthorized, 'Logical sessions require authentication');
    }
    if (name.length > 10_000) throw new MongoError(ErrorCodes.BadValue, 'Username too long to use with logical sessions');
    let owner = this.owners.get(name);
    if (owner === undefined) {
      owner = { uid: userDigest(name), user: name };
      if (this.owners.size < 10_000) this.owners.set(name, owner);
    }
    return owner;
  }
}

/**
 * mongod's makeLogicalSessionId (logical_session_id_helpers.cpp): the client's id plus the
 * caller's uid. A client-supplied uid must be the caller's own unless the caller may spoof it;
 * with auth off every privilege check passes, so any uid is accepted.
 */
export function makeLogicalSessionId(fromClient: LsidFromClient, owner: SessionOwner, mayImpersonate: boolean): LogicalSessionId {
  if (fromClient.txnNumber !== undefined && fromClient.txnUUID === undefined) {
    throw new MongoError(ErrorCodes.InvalidOptions, 'Cannot specify txnNumber in lsid without specifying txnUUID');
  }
  let uid = owner.uid;
  if (fromClient.uid !== undefined) {
    // Only an owner can be impersonated: with nobody logged in (auth off) every uid is accepted.
    const authOff = owner.user === undefined;
    if (!authOff && !mayImpersonate && !fromClient.uid.equals(owner.uid)) {
      throw new MongoError(ErrorCodes.Unauthorized, 'Unauthorized to set user digest in LogicalSessionId');
    }
    uid = fromClient.uid;
  }
  const lsid: { -readonly [K in keyof LogicalSessionId]: LogicalSessionId[K] } = { id: fromClient.id, uid };
  if (fromClient.txnNumber !== undefined) lsid.txnNumber = fromClient.txnNumber;
  if (fromClient.txnUUID !== undefined) lsid.txnUUID = fromClient.txnUUID;
  return lsid;
}
