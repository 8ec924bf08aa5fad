import { missingField, unknownField, wrongType } from '../bson/idlErrors.js';
import { createHash } from 'node:crypto';
import { Binary, Long, UUID, type Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { isPlainObject } from '../bson/args.js';

/** SHA-256 of "": the uid of every session when auth is off (mongod's kNoAuthDigest). */
export const NO_AUTH_UID: Buffer = createHash('sha256').update('').digest();

/** mongod's uid for a user: SHA-256 of "<user>@<db>". */
export function userDigest(displayName: string): Buffer {
  return createHash('sha256').update(displayName).digest();
}

/** LogicalSessionFromClient (logical_session_id.idl): what a client may send as an lsid. */
export interface LsidFromClient {
  id: Buffer;
  uid?: Buffer;
  txnNumber?: Long;
  txnUUID?: Buffer;
}

/** A server-side session id: the client's UUID plus the owner's digest. */
export interface LogicalSessionId {
  readonly id: Buffer;
  readonly uid: Buffer;
  readonly txnNumber?: Long;
  readonly txnUUID?: Buffer;
}

/** BinData subtype names as mongod prints them (typeName(BinDataType), bsontypes.cpp). */
function binDataTypeName(subtype: number): string {
  const names: Record<number, string> = {
    0: 'general',
    1: 'function',
    2: 'byte(deprecated)',
    3: 'UUID(deprecated)',
    4: 'UUID',
    5: 'MD5',
    6: 'encrypt',
    7: 'column',
    8: 'sensitive',
    9: 'vector',
    128: 'Custom',
  };
  return names[subtype] ?? 'invalid';
}

function binaryBytes(value: Binary): Buffer {
  const bytes = value.buffer;
  return Buffer.from(bytes.buffer, bytes.byteOffset, value.position);
}


/** An IDL `uuid` field: BinData subtype 4 of exactly 16 bytes. */
export function parseUuidField(value: unknown, path: string): Buffer {
  if (!(value instanceof Binary)) throw wrongType(path, value, 'binData');
  if (value.sub_type !== Binary.SUBTYPE_UUID) {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field '${path}' is the wrong binData type '${binDataTypeName(value.sub_type)}', expected type 'UUID'`,
    );
  }
  const bytes = binaryBytes(value);
  if (bytes.length !== 16) {
    throw new MongoError(ErrorCodes.InvalidUUID, 'uuid must be a 16-byte binary field with UUID (4) subtype');
  }
  return bytes;
}

/** An IDL `sha256Block` field: BinData subtype 0 of exactly 32 bytes. */
export function parseSha256Field(value: unknown, path: string): Buffer {
  if (!(value instanceof Binary)) throw wrongType(path, value, 'binData');
  if (value.sub_type !== Binary.SUBTYPE_DEFAULT) {
    throw new MongoError(
      ErrorCodes.TypeMismatch,
      `BSON field '${path}' is the wrong binData type '${binDataTypeName(value.sub_type)}', expected type 'general'`,
    );
  }
  const bytes = binaryBytes(value);
  if (bytes.length !== 32) {
    throw new MongoError(ErrorCodes.UnsupportedFormat, `Unsupported SHA256Block hash length: ${bytes.length}`);
  }
  return bytes;
}

/** Present for the IDL: a field holding null or undefined counts as absent. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/**
 * Parses a LogicalSessionFromClient with mongod's IDL errors (sessions-semantics.md §3.2).
 * `path` names the value in errors, e.g. `OperationSessionInfo.lsid`; `elementPath` is the
 * path used when the value itself has the wrong type (array elements add their index there).
 */
export function parseLsidFromClient(value: unknown, path: string, elementPath = path): LsidFromClient {
  if (!isPlainObject(value)) throw wrongType(elementPath, value, 'object');
  const out: Partial<LsidFromClient> = {};
  for (const [field, v] of Object.entries(value)) {
    switch (field) {
      case 'id':
        if (present(v)) out.id = parseUuidField(v, `${path}.id`);
        break;
      case 'uid':
        if (present(v)) out.uid = parseSha256Field(v, `${path}.uid`);
        break;
      case 'txnNumber':
        if (present(v)) {
          if (!(v instanceof Long)) throw wrongType(`${path}.txnNumber`, v, 'long');
          out.txnNumber = v;
        }
        break;
      case 'txnUUID':
        if (present(v)) out.txnUUID = parseUuidField(v, `${path}.txnUUID`);
        break;
      default:
        throw unknownField(`${path}.${field}`);
    }
  }
  if (out.id === undefined) {
    throw missingField(`${path}.id`);
  }
  return out as LsidFromClient;
}

/** A child (internal transaction) session: the lsid carries txnNumber and/or txnUUID. */
export function isChildSession(lsid: LsidFromClient | LogicalSessionId): boolean {
  return lsid.txnNumber !== undefined || lsid.txnUUID !== undefined;
}

function uuidText(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** mongod's text form of an lsid: "<uuid> - <base64 uid> - <txnNumber> - <txnUUID>". */
export function lsidText(lsid: LogicalSessionId): string {
  const txnNumber = lsid.txnNumber === undefined ? '' : lsid.txnNumber.toString();
  const txnUUID = lsid.txnUUID === undefined ? '' : uuidText(lsid.txnUUID);
  return `${uuidText(lsid.id)} - ${lsid.uid.toString('base64')} - ${txnNumber} - ${txnUUID}`;
}

const keyBytes = Buffer.allocUnsafe(48);

/**
 * The registry key of a session, one flat one-byte string: the id's 16 bytes alone when the uid
 * is SHA-256("") (auth off: nearly every session), else the id's 16 bytes then the uid's 32. The
 * lengths differ, so the two forms never collide.
 */
export function lsidKey(id: Buffer, uid: Buffer): string {
  const noAuth = uid === NO_AUTH_UID || uid.equals(NO_AUTH_UID);
  if (id.length !== 16 || uid.length !== 32) return id.toString('latin1') + (noAuth ? '' : uid.toString('latin1'));
  if (noAuth) {
    // The same string as id.toString('latin1'), made in half the time (one per startSession).
    return String.fromCharCode(id[0]!, id[1]!, id[2]!, id[3]!, id[4]!, id[5]!, id[6]!, id[7]!, id[8]!, id[9]!, id[10]!, id[11]!, id[12]!, id[13]!, id[14]!, id[15]!);
  }
  keyBytes.set(id, 0);
  keyBytes.set(uid, 16);
  return keyBytes.toString('latin1', 0, 48);
}

/** The `_id` document of a session in $listLocalSessions and config.system.sessions. */
export function lsidDocument(lsid: LogicalSessionId): Document {
  return { id: new UUID(lsid.id), uid: new Binary(lsid.uid, Binary.SUBTYPE_DEFAULT) };
}
