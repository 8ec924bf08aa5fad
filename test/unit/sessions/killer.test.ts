import { randomBytes } from 'node:crypto';
import { Long } from 'bson';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { matcherFor, type KillPattern } from '../../../src/sessions/killer.js';
import { NO_AUTH_UID, userDigest, type LogicalSessionId } from '../../../src/sessions/logicalSessionId.js';
import { newLsid } from './helpers.js';

const A = userDigest('a@admin');
const B = userDigest('b@admin');

function child(parent: LogicalSessionId, txnNumber?: number): LogicalSessionId {
  const lsid: { -readonly [K in keyof LogicalSessionId]: LogicalSessionId[K] } = {
    id: Buffer.from(parent.id),
    uid: Buffer.from(parent.uid),
    txnUUID: randomBytes(16),
  };
  if (txnNumber !== undefined) lsid.txnNumber = Long.fromNumber(txnNumber);
  return lsid;
}

describe('matcherFor (sessions-semantics.md §2.6)', () => {
  test('a uid pattern matches every session of that uid and nothing else', () => {
    const match = matcherFor([{ uid: A }]);
    const a1 = newLsid(A);
    const a2 = newLsid(A);
    expect(match(a1)).toBe(true);
    expect(match(a2)).toBe(true);
    expect(match({ id: a1.id, uid: B })).toBe(false);
    expect(match(newLsid(B))).toBe(false);
    expect(match(newLsid(NO_AUTH_UID))).toBe(false);
    // Matching is by value, not by Buffer identity.
    expect(match({ id: randomBytes(16), uid: Buffer.from(A) })).toBe(true);
  });

  test('uid wins over lsid in the same pattern', () => {
    const target = newLsid(B);
    const match = matcherFor([{ uid: A, lsid: target }]);
    // The lsid part is ignored: the B session is not matched, every A session is.
    expect(match(target)).toBe(false);
    expect(match(newLsid(A))).toBe(true);
    expect(match({ id: target.id, uid: A })).toBe(true);
  });

  test('an lsid pattern matches exactly {id, uid}', () => {
    const target = newLsid(A);
    const match = matcherFor([{ lsid: target }]);
    expect(match(target)).toBe(true);
    expect(match({ id: Buffer.from(target.id), uid: Buffer.from(target.uid) })).toBe(true);
    expect(match({ id: target.id, uid: B })).toBe(false);
    expect(match({ id: target.id, uid: NO_AUTH_UID })).toBe(false);
    expect(match(newLsid(A))).toBe(false);
  });

  test('a pattern with neither lsid nor uid matches everything', () => {
    const match = matcherFor([{}]);
    expect(match(newLsid())).toBe(true);
    expect(match(newLsid(A))).toBe(true);
    expect(match(child(newLsid(B), 1))).toBe(true);
    // Mixed with narrower patterns, the empty one still matches everything.
    const mixed = matcherFor([{ uid: A }, {}, { lsid: newLsid(B) }]);
    expect(mixed(newLsid(NO_AUTH_UID))).toBe(true);
  });

  test('an empty pattern list matches nothing (the commands pass [{}] for "all")', () => {
    const match = matcherFor([]);
    expect(match(newLsid())).toBe(false);
    expect(match(newLsid(A))).toBe(false);
  });

  test('child lsids match through their parent', () => {
    const parent = newLsid(A);
    const kids = [child(parent, 0), child(parent, 7), child(parent)];
    for (const kid of kids) {
      expect(matcherFor([{ lsid: parent }])(kid)).toBe(true);
      expect(matcherFor([{ uid: A }])(kid)).toBe(true);
      expect(matcherFor([{ uid: B }])(kid)).toBe(false);
      expect(matcherFor([{ lsid: newLsid(A) }])(kid)).toBe(false);
    }
  });

  test('several patterns: the union of what each matches (model check)', () => {
    // Sessions drawn from a small pool of ids and uids so that patterns hit and miss.
    const ids = Array.from({ length: 4 }, () => randomBytes(16));
    const uids = [A, B, NO_AUTH_UID];
    const lsidArb = fc
      .record({ i: fc.nat({ max: ids.length - 1 }), u: fc.nat({ max: uids.length - 1 }) })
      .map(({ i, u }) => ({ id: ids[i]!, uid: uids[u]! }));
    const patternArb: fc.Arbitrary<KillPattern> = fc
      .record({ lsid: fc.option(lsidArb, { nil: undefined }), uid: fc.option(fc.constantFrom(...uids), { nil: undefined }) })
      .map(({ lsid, uid }) => {
        const p: KillPattern = {};
        if (lsid !== undefined) p.lsid = lsid;
        if (uid !== undefined) p.uid = uid;
        return p;
      });
    const expected = (patterns: KillPattern[], s: LogicalSessionId): boolean =>
      patterns.some((p) => {
        if (p.uid !== undefined) return p.uid.equals(s.uid);
        if (p.lsid !== undefined) return p.lsid.id.equals(s.id) && p.lsid.uid.equals(s.uid);
        return true;
      });
    fc.assert(
      fc.property(fc.array(patternArb, { maxLength: 5 }), fc.array(lsidArb, { minLength: 1, maxLength: 8 }), (patterns, sessions) => {
        const match = matcherFor(patterns);
        for (const s of sessions) expect(match(s)).toBe(expected(patterns, s));
      }),
      { numRuns: 300 },
    );
  });
});
