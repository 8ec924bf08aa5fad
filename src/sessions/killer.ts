import type { LogicalSessionId } from './logicalSessionId.js';

/**
 * A kill pattern (kill_sessions.idl KillAllSessionsByPattern). `users`/`roles` are impersonation
 * data only, never filters (SessionKiller::Matcher, session_killer.cpp).
 */
export interface KillPattern {
  lsid?: LogicalSessionId;
  uid?: Buffer;
}

/**
 * mongod's matcher: a pattern with a uid matches every session of that uid (uid beats lsid);
 * one with an lsid matches that exact {id, uid} (a child session through its parent); one with
 * neither matches everything.
 */
export function matcherFor(patterns: readonly KillPattern[]): (lsid: LogicalSessionId) => boolean {
  if (patterns.some((p) => p.uid === undefined && p.lsid === undefined)) return () => true;
  const uids = new Set<string>();
  const ids = new Set<string>();
  for (const p of patterns) {
    if (p.uid !== undefined) uids.add(p.uid.toString('hex'));
    else if (p.lsid !== undefined) ids.add(p.lsid.id.toString('hex') + p.lsid.uid.toString('hex'));
  }
  return (lsid) => {
    const uid = lsid.uid.toString('hex');
    return uids.has(uid) || ids.has(lsid.id.toString('hex') + uid);
  };
}
