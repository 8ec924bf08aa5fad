/**
 * SCRAM credentials as mongod stores them in `admin.system.users` under `credentials`:
 *
 *   { "SCRAM-SHA-1":   { iterationCount, salt, storedKey, serverKey },
 *     "SCRAM-SHA-256": { iterationCount, salt, storedKey, serverKey } }
 *
 * salt/storedKey/serverKey are base64 strings. How mongod builds them (createUser/updateUser,
 * `buildCredentials` in src/mongo/db/commands/user_management_commands.cpp, and
 * `scram::Secrets::generateCredentials` in src/mongo/crypto/mechanism_scram.h):
 *
 * - SCRAM-SHA-1 hashes the *digest* password `hex(md5("<user>:mongo:<password>"))`
 *   (`createPasswordDigest`), with no SASLprep; iterations = `scramIterationCount` (default 10000).
 * - SCRAM-SHA-256 hashes SASLprep(password) (ICU's RFC 4013 profile, unassigned code points
 *   refused); iterations = `scramSHA256IterationCount` (default 15000).
 * - The salt is `hashLength - 4` random bytes: 16 for SHA-1, 28 for SHA-256 (`Presecrets::saltLength`).
 * - SaltedPassword = Hi(password, salt, i) (PBKDF2-HMAC, dkLen = hash length), ClientKey =
 *   HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey), ServerKey =
 *   HMAC(SaltedPassword, "Server Key") (RFC 5802 §3).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { LocationCodes, MongoError } from '../errors.js';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

/** In mongod's registry order (the order `saslSupportedMechs` lists them). */
export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-1', 'SCRAM-SHA-256'];

export function isScramMechanism(name: unknown): name is ScramMechanism {
  return name === 'SCRAM-SHA-1' || name === 'SCRAM-SHA-256';
}

/** One mechanism's entry of a user document's `credentials`. */
export interface ScramCredential {
  iterationCount: number;
  /** base64 */
  salt: string;
  /** base64 of H(ClientKey) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

/** A user document's `credentials` (only the SCRAM part). */
export interface StoredCredentials {
  'SCRAM-SHA-1'?: ScramCredential;
  'SCRAM-SHA-256'?: ScramCredential;
}

/** mongod's `scramIterationCount` default. */
export const DEFAULT_SCRAM_SHA1_ITERATION_COUNT = 10000;
/** mongod's `scramSHA256IterationCount` default. */
export const DEFAULT_SCRAM_SHA256_ITERATION_COUNT = 15000;
/** Lowest count mongod's setParameter accepts for either parameter (sasl_options.idl: gte 5000). */
export const SCRAM_ITERATION_COUNT_PARAMETER_MINIMUM = 5000;
/** `scram::kIterationCountMinimum`: the hard floor when deriving secrets (RFC 5802 §5.1 "at least 4096"). */
export const SCRAM_ITERATION_COUNT_MINIMUM = 4096;

type HashName = 'sha1' | 'sha256';

export function hashNameOf(mechanism: ScramMechanism): HashName {
  return mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
}

/** Digest length in bytes: 20 (SHA-1) or 32 (SHA-256). */
export function hashLengthOf(mechanism: ScramMechanism): number {
  return mechanism === 'SCRAM-SHA-1' ? 20 : 32;
}

/** Random salt length mongod uses: hash length - 4 (16 for SHA-1, 28 for SHA-256). */
export function saltLengthOf(mechanism: ScramMechanism): number {
  return hashLengthOf(mechanism) - 4;
}

export function defaultIterationCountOf(mechanism: ScramMechanism): number {
  return mechanism === 'SCRAM-SHA-1'
    ? DEFAULT_SCRAM_SHA1_ITERATION_COUNT
    : DEFAULT_SCRAM_SHA256_ITERATION_COUNT;
}

/** H(data) */
export function scramHash(mechanism: ScramMechanism, data: Buffer | string): Buffer {
  return createHash(hashNameOf(mechanism)).update(data).digest();
}

/** HMAC(key, data) */
export function scramHmac(mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(hashNameOf(mechanism), key).update(data).digest();
}

/** Hi(password, salt, i) = PBKDF2 with HMAC-H and dkLen = hash length (RFC 5802 §2.2). */
export function saltPassword(
  mechanism: ScramMechanism,
  password: string,
  salt: Buffer,
  iterationCount: number,
): Buffer {
  return pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    salt,
    iterationCount,
    hashLengthOf(mechanism),
    hashNameOf(mechanism),
  );
}

/** mongod's `createPasswordDigest`: hex(md5("<user>:mongo:<password>")), the SCRAM-SHA-1 password. */
export function mongoPasswordDigest(user: string, password: string): string {
  return createHash('md5').update(`${user}:mongo:${password}`, 'utf8').digest('hex');
}

// In the CLI bundle this require() is bundled (scripts/bundle.mjs); either way saslprep runs its
// top level at the first call of saslPrepPassword.
const require = createRequire(import.meta.url);

/**
 * The saslprep package, loaded at the first SCRAM-SHA-256 password: it inflates and indexes its
 * code-point tables when loaded (~5 ms of start-up otherwise).
 */
let saslprep: typeof import('@mongodb-js/saslprep').saslprep | undefined;

/**
 * SASLprep (RFC 4013) as mongod's `icuSaslPrep` with default options (unassigned code points are
 * refused). A failure is mongod's uassert 50693 "Failed normalizing string: <ICU error name>".
 */
export function saslPrepPassword(password: string): string {
  saslprep ??= (require('@mongodb-js/saslprep') as typeof import('@mongodb-js/saslprep')).saslprep;
  try {
    return saslprep(password);
  } catch (err) {
    const text = err instanceof Error ? err.message : '';
    const icuName = text.startsWith('Unassigned')
      ? 'U_STRINGPREP_UNASSIGNED_ERROR'
      : text.startsWith('Prohibited')
        ? 'U_STRINGPREP_PROHIBITED_ERROR'
        : 'U_STRINGPREP_CHECK_BIDI_ERROR';
    throw new MongoError(LocationCodes.SaslPrepFailed, `Failed normalizing string: ${icuName}`);
  }
}

/** The string a mechanism actually hashes: the md5 digest for SHA-1, SASLprep(password) for SHA-256. */
export function scramPasswordFor(mechanism: ScramMechanism, user: string, password: string): string {
  return mechanism === 'SCRAM-SHA-1'
    ? mongoPasswordDigest(user, password)
    : saslPrepPassword(password);
}

/** The keys both sides derive from a salted password (RFC 5802 §3). */
export interface ScramKeys {
  saltedPassword: Buffer;
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function deriveScramKeys(
  mechanism: ScramMechanism,
  preparedPassword: string,
  salt: Buffer,
  iterationCount: number,
): ScramKeys {
  const saltedPassword = saltPassword(mechanism, preparedPassword, salt, iterationCount);
  const clientKey = scramHmac(mechanism, saltedPassword, 'Client Key');
  return {
    saltedPassword,
    clientKey,
    storedKey: scramHash(mechanism, clientKey),
    serverKey: scramHmac(mechanism, saltedPassword, 'Server Key'),
  };
}

function checkIterationCount(iterationCount: number): void {
  if (!Number.isSafeInteger(iterationCount) || iterationCount < SCRAM_ITERATION_COUNT_MINIMUM) {
    // mongod: uassert(50662, "invalid iteration count", ...) in scram::Presecrets.
    throw new MongoError(LocationCodes.InvalidIterationCount, 'invalid iteration count');
  }
}

/**
 * A stored credential from an already prepared password (digest or SASLprep'd) and an explicit
 * salt of any length. Low level: tests use it for the RFC vectors (12- and 16-byte salts).
 */
export function deriveScramCredential(
  mechanism: ScramMechanism,
  preparedPassword: string,
  salt: Buffer,
  iterationCount: number,
): ScramCredential {
  checkIterationCount(iterationCount);
  const keys = deriveScramKeys(mechanism, preparedPassword, salt, iterationCount);
  return {
    iterationCount,
    salt: salt.toString('base64'),
    storedKey: keys.storedKey.toString('base64'),
    serverKey: keys.serverKey.toString('base64'),
  };
}

/**
 * One mechanism's credential for `user`/`password`, as createUser makes it. `salt` defaults to
 * fresh random bytes of mongod's length (16 or 28); pass it only in tests.
 */
export function createScramCredential(
  mechanism: ScramMechanism,
  user: string,
  password: string,
  iterationCount: number = defaultIterationCountOf(mechanism),
  salt: Buffer = randomBytes(saltLengthOf(mechanism)),
): ScramCredential {
  checkIterationCount(iterationCount);
  return deriveScramCredential(
    mechanism,
    scramPasswordFor(mechanism, user, password),
    salt,
    iterationCount,
  );
}

export interface CreateScramCredentialsOptions {
  /** mongod `scramIterationCount` (default 10000). */
  scramIterationCount?: number;
  /** mongod `scramSHA256IterationCount` (default 15000). */
  scramSHA256IterationCount?: number;
  /** createUser's `mechanisms` (default: both). */
  mechanisms?: readonly ScramMechanism[];
}

/**
 * The `credentials` document createUser stores for `user` (the bare user name, without the db)
 * and `password`: independent random salts per mechanism.
 */
export function createScramCredentials(
  user: string,
  password: string,
  options: CreateScramCredentialsOptions = {},
): StoredCredentials {
  const mechanisms = options.mechanisms ?? SCRAM_MECHANISMS;
  const credentials: StoredCredentials = {};
  if (mechanisms.includes('SCRAM-SHA-1')) {
    credentials['SCRAM-SHA-1'] = createScramCredential(
      'SCRAM-SHA-1',
      user,
      password,
      options.scramIterationCount ?? DEFAULT_SCRAM_SHA1_ITERATION_COUNT,
    );
  }
  if (mechanisms.includes('SCRAM-SHA-256')) {
    credentials['SCRAM-SHA-256'] = createScramCredential(
      'SCRAM-SHA-256',
      user,
      password,
      options.scramSHA256IterationCount ?? DEFAULT_SCRAM_SHA256_ITERATION_COUNT,
    );
  }
  return credentials;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict (padded, canonical alphabet) base64 decoding; undefined when `text` is not base64. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/**
 * Whether a stored credential can be used (mongod's `scram<HashBlock>().isValid()`): a positive
 * iteration count, a non-empty salt, and storedKey/serverKey of the mechanism's hash length.
 */
export function isValidScramCredential(
  mechanism: ScramMechanism,
  credential: ScramCredential,
): boolean {
  const length = hashLengthOf(mechanism);
  return (
    Number.isSafeInteger(credential.iterationCount) &&
    credential.iterationCount > 0 &&
    typeof credential.salt === 'string' &&
    (decodeBase64Strict(credential.salt)?.length ?? 0) > 0 &&
    typeof credential.storedKey === 'string' &&
    decodeBase64Strict(credential.storedKey)?.length === length &&
    typeof credential.serverKey === 'string' &&
    decodeBase64Strict(credential.serverKey)?.length === length
  );
}
