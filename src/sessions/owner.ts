import { ErrorCodes, MongoError } from '../errors.js';
import type { ConnectionState } from '../net/connectionState.js';
import { NO_AUTH_UID, type LogicalSessionId, type LsidFromClient } from './logicalSessionId.js';

/** Who owns the sessions a connection's commands create or use. */
export interface SessionOwner {
  /** SHA-256 of "user@db", or of "" when auth is off. */
  readonly uid: Buffer;
  /** "user@db" when auth is on and someone is logged in. */
  readonly user: string | undefined;
}

const NO_AUTH_OWNER: SessionOwner = { uid: NO_AUTH_UID, user: undefined };

/**
 * The owner resolver. Auth is not enforced yet, so every session belongs to nobody: uid is
 * SHA-256("") even if the client logged in (mongod's getAuthenticatedUser checks isAuthEnabled
 * first; sessions-semantics.md §1.1).
 */
export function resolveOwner(_connection: ConnectionState): SessionOwner {
  return NO_AUTH_OWNER;
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
