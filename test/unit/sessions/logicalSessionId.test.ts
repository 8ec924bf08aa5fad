import { createHash, randomBytes } from 'node:crypto';
import { BSON, Binary, Long, UUID } from 'bson';
import { describe, expect, test } from 'vitest';
import { codeNameOf } from '../../../src/errors.js';
import {
  NO_AUTH_UID,
  isChildSession,
  lsidDocument,
  lsidKey,
  lsidText,
  parseLsidFromClient,
  userDigest,
  type LsidFromClient,
} from '../../../src/sessions/logicalSessionId.js';
import { makeLogicalSessionId, type SessionOwner } from '../../../src/sessions/owner.js';
import { expectMongoError, uuidText } from './helpers.js';

const PATH = 'OperationSessionInfo.lsid';

function parse(value: unknown) {
  return parseLsidFromClient(value, PATH);
}

const uuid = () => new UUID();
const sha = (n = 32, subtype: number = Binary.SUBTYPE_DEFAULT) => new Binary(randomBytes(n), subtype);

describe('parseLsidFromClient: sessions-semantics.md §3.2', () => {
  const rows: Array<{ name: string; lsid: () => unknown; code: number; codeName: string; errmsg: string }> = [
    {
      name: '"invalid"',
      lsid: () => 'invalid',
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid' is the wrong type 'string', expected type 'object'",
    },
    {
      name: '{}',
      lsid: () => ({}),
      code: 40414,
      codeName: 'Location40414',
      errmsg: "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field",
    },
    {
      name: '{id: "invalid"}',
      lsid: () => ({ id: 'invalid' }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.id' is the wrong type 'string', expected type 'binData'",
    },
    {
      name: '{id: BinData(1, "")}',
      lsid: () => ({ id: new Binary(Buffer.alloc(0), 1) }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.id' is the wrong binData type 'function', expected type 'UUID'",
    },
    {
      name: '{id: BinData(4, "")}',
      lsid: () => ({ id: new Binary(Buffer.alloc(0), 4) }),
      code: 207,
      codeName: 'InvalidUUID',
      errmsg: 'uuid must be a 16-byte binary field with UUID (4) subtype',
    },
    {
      name: '{id: <uuid>, foo: 1}',
      lsid: () => ({ id: uuid(), foo: 1 }),
      code: 40415,
      codeName: 'Location40415',
      errmsg: "BSON field 'OperationSessionInfo.lsid.foo' is an unknown field.",
    },
    {
      name: '{id: <uuid>, uid: "x"}',
      lsid: () => ({ id: uuid(), uid: 'x' }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.uid' is the wrong type 'string', expected type 'binData'",
    },
    {
      name: '{id: <uuid>, uid: BinData(0, 31 bytes)}',
      lsid: () => ({ id: uuid(), uid: sha(31) }),
      code: 12,
      codeName: 'UnsupportedFormat',
      errmsg: 'Unsupported SHA256Block hash length: 31',
    },
    {
      name: '{id: <uuid>, uid: BinData(0, "")}',
      lsid: () => ({ id: uuid(), uid: new Binary(Buffer.alloc(0), 0) }),
      code: 12,
      codeName: 'UnsupportedFormat',
      errmsg: 'Unsupported SHA256Block hash length: 0',
    },
    {
      name: '{id: <uuid>, uid: BinData(4, 32 bytes)}',
      lsid: () => ({ id: uuid(), uid: sha(32, 4) }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.uid' is the wrong binData type 'UUID', expected type 'general'",
    },
    {
      name: '{id: <uuid>, uid: UUID}',
      lsid: () => ({ id: uuid(), uid: uuid() }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.uid' is the wrong binData type 'UUID', expected type 'general'",
    },
    {
      name: '{id: BinData(3, 16 bytes)}',
      lsid: () => ({ id: new Binary(randomBytes(16), 3) }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg:
        "BSON field 'OperationSessionInfo.lsid.id' is the wrong binData type 'UUID(deprecated)', expected type 'UUID'",
    },
    {
      name: '{id: <uuid>, uid: BinData(1, 32 bytes)}',
      lsid: () => ({ id: uuid(), uid: sha(32, 1) }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.uid' is the wrong binData type 'function', expected type 'general'",
    },
    {
      name: '{id: <uuid>, txnNumber: "1"}',
      lsid: () => ({ id: uuid(), txnNumber: '1' }),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid.txnNumber' is the wrong type 'string', expected type 'long'",
    },
    {
      name: '[]',
      lsid: () => [],
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid' is the wrong type 'array', expected type 'object'",
    },
    {
      name: 'a bare UUID',
      lsid: () => uuid(),
      code: 14,
      codeName: 'TypeMismatch',
      errmsg: "BSON field 'OperationSessionInfo.lsid' is the wrong type 'binData', expected type 'object'",
    },
  ];

  test.each(rows)('$name -> $code', ({ lsid, code, codeName, errmsg }) => {
    const err = expectMongoError(() => parse(lsid()), code, errmsg);
    expect(err.codeName).toBe(codeName);
    expect(codeNameOf(code)).toBe(codeName);
  });

  test('a valid lsid: id only, and id + uid', () => {
    const id = uuid();
    const parsed = parse({ id });
    expect(Buffer.isBuffer(parsed.id)).toBe(true);
    expect(parsed.id.toString('hex')).toBe(id.toHexString(false));
    expect(parsed.uid).toBeUndefined();
    expect(parsed.txnNumber).toBeUndefined();
    expect(parsed.txnUUID).toBeUndefined();

    const uid = new Binary(NO_AUTH_UID, 0);
    const withUid = parse({ id, uid });
    expect(withUid.uid?.equals(NO_AUTH_UID)).toBe(true);
  });

  test('a child lsid keeps txnNumber and txnUUID', () => {
    const txnUUID = uuid();
    const parsed = parse({ id: uuid(), txnNumber: Long.fromNumber(5), txnUUID });
    expect(parsed.txnNumber?.toNumber()).toBe(5);
    expect(parsed.txnUUID?.toString('hex')).toBe(txnUUID.toHexString(false));
    expect(isChildSession(parsed)).toBe(true);
    expect(isChildSession(parse({ id: uuid() }))).toBe(false);
  });

  test('null (and undefined) fields count as absent', () => {
    const parsed = parse({ id: uuid(), uid: null, txnNumber: null, txnUUID: undefined });
    expect(parsed.uid).toBeUndefined();
    expect(parsed.txnNumber).toBeUndefined();
    expect(parsed.txnUUID).toBeUndefined();
    expectMongoError(() => parse({ id: null }), 40414, "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field");
    expectMongoError(
      () => parse({ id: undefined, uid: null }),
      40414,
      "BSON field 'OperationSessionInfo.lsid.id' is missing but a required field",
    );
  });

  test('the element path names a wrongly typed value, the path names nested fields', () => {
    expectMongoError(
      () => parseLsidFromClient(7, 'endSessions.endSessionsFromClient', 'endSessions.endSessionsFromClient.0'),
      14,
      "BSON field 'endSessions.endSessionsFromClient.0' is the wrong type 'int', expected type 'object'",
    );
    expectMongoError(
      () => parseLsidFromClient({}, 'endSessions.endSessionsFromClient', 'endSessions.endSessionsFromClient.0'),
      40414,
      "BSON field 'endSessions.endSessionsFromClient.id' is missing but a required field",
    );
  });

  test('the id and uid bytes are exactly those sent, from a BSON round trip and from a view into a larger buffer', () => {
    const idBytes = randomBytes(16);
    const uidBytes = randomBytes(32);
    const wire = BSON.serialize({ pad: 'x'.repeat(37), lsid: { id: new UUID(idBytes), uid: new Binary(uidBytes, 0) } });
    const { lsid } = BSON.deserialize(wire);
    const parsed = parse(lsid);
    expect(parsed.id.equals(idBytes)).toBe(true);
    expect(parsed.uid?.equals(uidBytes)).toBe(true);

    const big = randomBytes(64);
    const view = new Binary(big.subarray(8, 24), 4);
    const fromView = parse({ id: view });
    expect(fromView.id.length).toBe(16);
    expect(fromView.id.equals(big.subarray(8, 24))).toBe(true);
  });
});

describe('uids and text forms', () => {
  test('NO_AUTH_UID is SHA-256 of the empty string', () => {
    expect(NO_AUTH_UID.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(NO_AUTH_UID.toString('base64')).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
  });

  test("userDigest('user@admin') is SHA-256 of the display name", () => {
    const expected = createHash('sha256').update('user@admin').digest();
    expect(userDigest('user@admin').equals(expected)).toBe(true);
    expect(userDigest('user@admin').toString('hex')).toBe('78e672a9f1df895a5fbe23c35a0004466ccd167529f1405d95628de7416ff5fa');
    expect(userDigest('').equals(NO_AUTH_UID)).toBe(true);
  });

  test('lsidText: "<uuid> - <base64 uid> -  - " for a parent session', () => {
    const id = Buffer.from('2926eea5977541a3a563096969f1c7d5', 'hex');
    expect(lsidText({ id, uid: NO_AUTH_UID })).toBe(
      '2926eea5-9775-41a3-a563-096969f1c7d5 - 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= -  - ',
    );
  });

  test('lsidText of a child session carries txnNumber and txnUUID', () => {
    const id = randomBytes(16);
    const txnUUID = randomBytes(16);
    expect(lsidText({ id, uid: NO_AUTH_UID, txnNumber: Long.fromNumber(12), txnUUID })).toBe(
      `${uuidText(id)} - ${NO_AUTH_UID.toString('base64')} - 12 - ${uuidText(txnUUID)}`,
    );
  });

  test('lsidKey: the id alone under the no-auth uid, the id then the uid otherwise', () => {
    const id = randomBytes(16);
    const a = userDigest('a@admin');
    expect(lsidKey(id, NO_AUTH_UID)).toBe(id.toString('latin1'));
    expect(lsidKey(id, Buffer.from(NO_AUTH_UID))).toBe(id.toString('latin1'));
    expect(lsidKey(id, a)).toBe(id.toString('latin1') + a.toString('latin1'));
    expect(lsidKey(Buffer.alloc(16, 0xff), NO_AUTH_UID)).toBe('\xff'.repeat(16));
  });

  test('lsidKey and lsidDocument identify {id, uid}', () => {
    const id = randomBytes(16);
    const a = userDigest('a@admin');
    expect(lsidKey(id, a)).not.toBe(lsidKey(id, NO_AUTH_UID));
    const doc = lsidDocument({ id, uid: a });
    expect(doc.id).toBeInstanceOf(UUID);
    expect((doc.id as UUID).toHexString(false)).toBe(id.toString('hex'));
    expect(doc.uid).toBeInstanceOf(Binary);
    expect((doc.uid as Binary).sub_type).toBe(0);
    expect(Buffer.from((doc.uid as Binary).value()).equals(a)).toBe(true);
  });
});

describe('makeLogicalSessionId (§1.2)', () => {
  const noAuth: SessionOwner = { uid: NO_AUTH_UID, user: undefined };
  const alice: SessionOwner = { uid: userDigest('alice@admin'), user: 'alice@admin' };

  test('txnNumber without txnUUID => 72', () => {
    const fromClient: LsidFromClient = { id: randomBytes(16), txnNumber: Long.fromNumber(1) };
    const err = expectMongoError(
      () => makeLogicalSessionId(fromClient, noAuth, false),
      72,
      'Cannot specify txnNumber in lsid without specifying txnUUID',
    );
    expect(err.codeName).toBe('InvalidOptions');
  });

  test('txnNumber with txnUUID is copied; txnUUID alone is fine', () => {
    const txnUUID = randomBytes(16);
    const lsid = makeLogicalSessionId({ id: randomBytes(16), txnNumber: Long.fromNumber(3), txnUUID }, noAuth, false);
    expect(lsid.txnNumber?.toNumber()).toBe(3);
    expect(lsid.txnUUID?.equals(txnUUID)).toBe(true);
    const onlyUuid = makeLogicalSessionId({ id: randomBytes(16), txnUUID }, noAuth, false);
    expect(onlyUuid.txnNumber).toBeUndefined();
    expect(onlyUuid.txnUUID?.equals(txnUUID)).toBe(true);
  });

  test("no uid: the owner's uid; auth off: any client uid is accepted", () => {
    const id = randomBytes(16);
    const plain = makeLogicalSessionId({ id }, noAuth, false);
    expect(plain.id.equals(id)).toBe(true);
    expect(plain.uid.equals(NO_AUTH_UID)).toBe(true);
    expect(plain.txnNumber).toBeUndefined();
    const other = userDigest('bob@admin');
    expect(makeLogicalSessionId({ id, uid: other }, noAuth, false).uid.equals(other)).toBe(true);
    expect(makeLogicalSessionId({ id }, alice, false).uid.equals(alice.uid)).toBe(true);
  });

  test("auth on: another user's uid => 13 unless the caller may impersonate", () => {
    const id = randomBytes(16);
    const other = userDigest('bob@admin');
    expectMongoError(
      () => makeLogicalSessionId({ id, uid: other }, alice, false),
      13,
      'Unauthorized to set user digest in LogicalSessionId',
    );
    expect(makeLogicalSessionId({ id, uid: alice.uid }, alice, false).uid.equals(alice.uid)).toBe(true);
    expect(makeLogicalSessionId({ id, uid: other }, alice, true).uid.equals(other)).toBe(true);
  });
});
