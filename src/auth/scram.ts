/**
 * Server side of SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677) as mongod runs it
 * (src/mongo/db/auth/sasl_scram_server_conversation.{h,cpp}). One object per conversation:
 *
 *   step 1  client-first  "n,,n=<user>,r=<cnonce>"        -> server-first "r=<cnonce><snonce>,s=<salt>,i=<n>"
 *   step 2  client-final  "c=biws,r=<nonce>,p=<proof>"    -> server-final "v=<signature>"  (done = skipEmptyExchange)
 *   step 3  (only without skipEmptyExchange) anything      -> ""  done = true
 *
 * Every failure inside a step is thrown as {@link ScramAuthenticationError}: code 18
 * AuthenticationFailed, errmsg "Authentication failed." -- what mongod's doSaslStep sends for any
 * failed step (`AuthorizationManager::authenticationFailedStatus`), so unknown user, wrong password
 * and malformed messages look the same on the wire. mongod's own reason (BadValue with the exact
 * text, UserNotFound, ...) is kept on `.reason` for the log (mongod logs it as id 20249
 * "Authentication failed").
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { codeNameOf, ErrorCodes, MongoError } from '../errors.js';
import {
  decodeBase64Strict,
  defaultIterationCountOf,
  hashLengthOf,
  isValidScramCredential,
  SCRAM_MECHANISMS,
  saltLengthOf,
  scramHash,
  scramHmac,
  type ScramCredential,
  type ScramMechanism,
  type StoredCredentials,
} from './credentials.js';

export { isScramMechanism, type ScramMechanism, type StoredCredentials } from './credentials.js';

/** mongod's `AuthorizationManager::authenticationFailedStatus` text. */
export const AUTHENTICATION_FAILED_MESSAGE = 'Authentication failed.';

/** Why a step failed, as mongod's internal Status (logged, never sent). */
export interface ScramFailureReason {
  readonly code: number;
  readonly codeName: string;
  readonly errmsg: string;
}

/** The error every failed step throws: `{ok: 0, code: 18, codeName: "AuthenticationFailed", errmsg: "Authentication failed."}`. */
export class ScramAuthenticationError extends MongoError {
  /** mongod's internal reason (for logging only; not part of the reply). */
  readonly reason: ScramFailureReason;

  constructor(reason: ScramFailureReason) {
    super(ErrorCodes.AuthenticationFailed, AUTHENTICATION_FAILED_MESSAGE);
    this.name = 'ScramAuthenticationError';
    this.reason = reason;
  }
}

function failure(code: number, errmsg: string, codeName: string = codeNameOf(code)): ScramAuthenticationError {
  return new ScramAuthenticationError({ code, codeName, errmsg });
}

function badValue(errmsg: string): ScramAuthenticationError {
  return failure(ErrorCodes.BadValue, errmsg);
}

/** Looks up a user of the authentication database by its (decoded, UTF-8) name. */
export type CredentialLookup = (user: string) => StoredCredentials | undefined;

export interface ScramStepResult {
  payload: Buffer;
  done: boolean;
}

export interface ScramConversationOptions {
  /** saslStart `options.skipEmptyExchange` (see {@link parseSaslStartOptions}). Default false. */
  skipEmptyExchange?: boolean;
  /** Authentication database, only used in failure reasons. Default "admin". */
  db?: string;
  /**
   * The server's half of the nonce. Default: base64 of 24 random bytes (32 characters), as
   * mongod. Inject it only in tests.
   */
  serverNonce?: string;
  /**
   * What step 1 does for a user that does not exist or has no usable credentials for this mechanism.
   * - 'fail' (default, mongod): step 1 fails (reason UserNotFound / MechanismUnavailable).
   * - 'mock': step 1 answers a plausible server-first message (salt derived from the user name with
   *   a secret, default iteration count) and step 2 fails, so step 1 reveals nothing.
   */
  unknownUsers?: 'fail' | 'mock';
  /** Key for the 'mock' salts. Default: 32 random bytes per process. */
  mockSecret?: Buffer;
  /** Iteration count announced in 'mock' mode. Default: 10000 (SHA-1) / 15000 (SHA-256). */
  mockIterationCount?: number;
  /**
   * Require `c=` to be base64 of the gs2 header the client sent (RFC 5802 §5.1: "biws" for
   * "n,,"). Default true. mongod only checks that `c=` is non-empty; pass false for that.
   */
  verifyChannelBinding?: boolean;
}

let processMockSecret: Buffer | undefined;

function mockSecret(options: ScramConversationOptions): Buffer {
  if (options.mockSecret) return options.mockSecret;
  processMockSecret ??= randomBytes(32);
  return processMockSecret;
}

/** mongod's `decodeSCRAMUsername`: "=2C" -> ",", then "=3D" -> "=" (nothing else is rejected). */
export function decodeScramUsername(saslname: string): string {
  return saslname.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/** RFC 5802 §5.1 saslname encoding (client side): "=" -> "=3D", "," -> "=2C". */
export function encodeScramUsername(user: string): string {
  return user.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/**
 * saslStart's `options` (mongod `SaslSCRAMServerMechanism::setOptions`). This runs before the
 * first step, outside the masked step, so its error reaches the client as is:
 * BadValue "skipEmptyExchange must be boolean".
 */
export function parseSaslStartOptions(
  options: Readonly<Record<string, unknown>> | undefined,
): { skipEmptyExchange: boolean } {
  const value = options?.['skipEmptyExchange'];
  if (value === undefined) return { skipEmptyExchange: false };
  if (typeof value !== 'boolean') {
    throw new MongoError(ErrorCodes.BadValue, 'skipEmptyExchange must be boolean');
  }
  return { skipEmptyExchange: value };
}

/**
 * The mechanisms `hello {saslSupportedMechs: "db.user"}` lists for a user: those it has valid
 * credentials for, in mongod's registry order. `undefined` (unknown user): mongod omits the field.
 */
export function saslSupportedMechsFor(
  credentials: StoredCredentials | undefined,
): ScramMechanism[] | undefined {
  if (!credentials) return undefined;
  return SCRAM_MECHANISMS.filter((mechanism) => {
    const credential = credentials[mechanism];
    return credential !== undefined && isValidScramCredential(mechanism, credential);
  });
}

/** Bytes <-> string 1:1, so parsing and AuthMessage work on the exact bytes the client sent. */
function bytesOf(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

/** Client-supplied bytes as readable text for messages and lookups. */
function utf8(text: string): string {
  return bytesOf(text).toString('utf8');
}

interface Secrets {
  storedKey: Buffer;
  serverKey: Buffer;
}

export class ScramServerConversation {
  readonly mechanism: ScramMechanism;
  readonly #lookup: CredentialLookup;
  readonly #options: ScramConversationOptions;
  readonly #skipEmptyExchange: boolean;

  #step = 0;
  #failed = false;
  #done = false;
  #principalName: string | undefined;
  #gs2Header = '';
  #nonce = '';
  #authMessage = '';
  #secrets: Secrets | undefined;
  /** Set in 'mock' mode: step 2 fails with this. */
  #deferredFailure: ScramAuthenticationError | undefined;

  constructor(
    mechanism: ScramMechanism,
    lookup: CredentialLookup,
    options: ScramConversationOptions = {},
  ) {
    this.mechanism = mechanism;
    this.#lookup = lookup;
    this.#options = options;
    this.#skipEmptyExchange = options.skipEmptyExchange ?? false;
  }

  /** The user name from client-first (decoded); set even when step 1 then fails. */
  get principalName(): string | undefined {
    return this.#principalName;
  }

  /** Steps taken so far (mongod `currentStep`). */
  get currentStep(): number {
    return this.#step;
  }

  /** 2 with skipEmptyExchange, else 3 (mongod `totalSteps`). */
  get totalSteps(): number {
    return this.#skipEmptyExchange ? 2 : 3;
  }

  /** True once a step answered done: the user is authenticated (mongod `isSuccess`). */
  get done(): boolean {
    return this.#done;
  }

  /** True after a step threw; the conversation cannot continue. */
  get failed(): boolean {
    return this.#failed;
  }

  /** One SASL step: the decoded payload in, the payload to send back and `done` out. */
  step(payload: Buffer): ScramStepResult {
    if (this.#failed) {
      throw failure(ErrorCodes.AuthenticationFailed, 'SCRAM conversation already failed');
    }
    try {
      const result = this.#stepImpl(payload.toString('latin1'));
      if (result.done) this.#done = true;
      return result;
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  #stepImpl(input: string): ScramStepResult {
    this.#step++;
    if (this.#step > this.totalSteps) {
      throw failure(
        ErrorCodes.AuthenticationFailed,
        `Invalid SCRAM authentication step: ${this.#step}`,
      );
    }
    if (this.#step === 1) return this.#firstStep(input);
    if (this.#step === 2) return this.#secondStep(input);
    return { payload: Buffer.alloc(0), done: true };
  }

  /** client-first-message -> server-first-message. */
  #firstStep(input: string): ScramStepResult {
    const badCount = (got: number): ScramAuthenticationError =>
      badValue(
        `Incorrect number of arguments for first SCRAM client message, got ${got} expected at least 3`,
      );

    const cbindComma = input.indexOf(',');
    if (cbindComma < 0) throw badCount(1);
    const cbindFlag = input.slice(0, cbindComma);
    if (cbindFlag.startsWith('p=')) throw badValue('Server does not support channel binding');
    if (cbindFlag !== 'y' && cbindFlag !== 'n') {
      throw badValue(`Incorrect SCRAM client message prefix: ${utf8(cbindFlag)}`);
    }

    const headerComma = input.indexOf(',', cbindComma + 1);
    if (headerComma < 0) throw badCount(2);
    let authzId = input.slice(cbindComma + 1, headerComma);
    if (authzId.length > 0) {
      if (!authzId.startsWith('a=')) throw badValue(`Incorrect SCRAM authzid: ${utf8(authzId)}`);
      authzId = authzId.slice(2);
    }

    const bare = input.slice(headerComma + 1);
    if (bare.startsWith('m=')) throw badValue('SCRAM mandatory extensions are not supported');

    // Like mongod (absl::SkipEmpty), empty fields are skipped; the AuthMessage uses the raw text.
    const fields = bare.split(',').filter((field) => field.length > 0);
    if (fields.length < 2) throw badCount(fields.length + 2);
    const [userField = '', nonceField = ''] = fields;

    if (!userField.startsWith('n=') || userField.length < 3) {
      throw badValue(`Invalid SCRAM user name: ${utf8(userField)}`);
    }
    const principal = decodeScramUsername(userField.slice(2));
    const user = utf8(principal);
    this.#principalName = user;

    // mongod compares the raw authzid with the decoded user name.
    if (authzId.length > 0 && principal !== authzId) {
      throw badValue(`SCRAM user name ${user} does not match authzid ${utf8(authzId)}`);
    }

    if (!nonceField.startsWith('r=') || nonceField.length < 6) {
      throw badValue(`Invalid SCRAM client nonce: ${utf8(nonceField)}`);
    }
    const clientNonce = nonceField.slice(2);

    const { salt, iterationCount } = this.#loadCredential(user);

    const serverNonce = this.#options.serverNonce ?? randomBytes(24).toString('base64');
    this.#gs2Header = input.slice(0, headerComma + 1);
    this.#nonce = clientNonce + serverNonce;
    const serverFirst = `r=${this.#nonce},s=${salt},i=${iterationCount}`;
    this.#authMessage = `${bare},${serverFirst}`;
    return { payload: bytesOf(serverFirst), done: false };
  }

  /** Finds the user's credential for this mechanism (or mocks one); throws per mongod otherwise. */
  #loadCredential(user: string): { salt: string; iterationCount: number } {
    const mechanism = this.mechanism;
    const credentials = this.#lookup(user);
    let problem: ScramAuthenticationError | undefined;
    let credential: ScramCredential | undefined;
    if (credentials === undefined) {
      const db = this.#options.db ?? 'admin';
      problem = failure(ErrorCodes.UserNotFound, `Could not find user "${user}" for db "${db}"`);
    } else {
      credential = credentials[mechanism];
      if (credential === undefined) {
        problem = failure(
          ErrorCodes.MechanismUnavailable,
          `Unable to use ${mechanism} based authentication for user without any ${mechanism} credentials registered`,
        );
      } else if (!isValidScramCredential(mechanism, credential)) {
        // Corrupt stored credentials are not mocked: that is an administrator's problem.
        throw failure(
          ErrorCodes.AuthenticationFailed,
          `Unable to validate ${mechanism} authentication due to corrupted stored credentials`,
        );
      }
    }

    if (credential !== undefined && problem === undefined) {
      this.#secrets = {
        storedKey: Buffer.from(credential.storedKey, 'base64'),
        serverKey: Buffer.from(credential.serverKey, 'base64'),
      };
      return { salt: credential.salt, iterationCount: credential.iterationCount };
    }
    if (problem === undefined || this.#options.unknownUsers !== 'mock') {
      throw problem ?? failure(ErrorCodes.InternalError, 'no SCRAM credential');
    }

    // 'mock': a stable salt per (mechanism, user) that cannot be told from a real one.
    this.#deferredFailure = problem;
    const salt = scramHmac('SCRAM-SHA-256', mockSecret(this.#options), `${mechanism}\0${user}`)
      .subarray(0, saltLengthOf(mechanism))
      .toString('base64');
    const iterationCount = this.#options.mockIterationCount ?? defaultIterationCountOf(mechanism);
    return { salt, iterationCount };
  }

  /** client-final-message -> server-final-message. */
  #secondStep(input: string): ScramStepResult {
    const badCount = (got: number): ScramAuthenticationError =>
      badValue(
        `Incorrect number of arguments for second SCRAM client message, got ${got} expected at least 3`,
      );

    const lastComma = input.lastIndexOf(',');
    if (lastComma < 0) throw badCount(1);
    const withoutProof = input.slice(0, lastComma);
    const authMessage = `${this.#authMessage},${withoutProof}`;

    const proofField = input.slice(lastComma + 1);
    if (proofField.length < 3 || !proofField.startsWith('p=')) {
      throw badValue(`Incorrect SCRAM ClientProof: ${utf8(proofField)}`);
    }
    const proof = proofField.slice(2);

    const fields = withoutProof.split(',').filter((field) => field.length > 0);
    if (fields.length < 2) throw badCount(fields.length + 1);
    const [cbindField = '', nonceField = ''] = fields;

    if (!cbindField.startsWith('c=') || cbindField.length < 3) {
      throw badValue(`Incorrect SCRAM channel binding: ${utf8(cbindField)}`);
    }
    if (
      (this.#options.verifyChannelBinding ?? true) &&
      cbindField.slice(2) !== bytesOf(this.#gs2Header).toString('base64')
    ) {
      throw badValue(`Incorrect SCRAM channel binding: ${utf8(cbindField)}`);
    }

    if (!nonceField.startsWith('r=') || nonceField.length < 6) {
      throw badValue(`Incorrect SCRAM client|server nonce: ${utf8(nonceField)}`);
    }
    const nonce = nonceField.slice(2);
    if (nonce !== this.#nonce) {
      throw badValue(
        `Unmatched SCRAM nonce received from client in second step, expected ${utf8(this.#nonce)} but received ${utf8(nonce)}`,
      );
    }

    if (this.#deferredFailure) throw this.#deferredFailure;
    const secrets = this.#secrets;
    if (!secrets) throw failure(ErrorCodes.InternalError, 'SCRAM secrets missing');

    // ClientSignature := HMAC(StoredKey, AuthMessage); ClientKey := ClientSignature XOR ClientProof;
    // the proof holds when H(ClientKey) == StoredKey (compared in constant time).
    const mechanism = this.mechanism;
    const message = bytesOf(authMessage);
    const clientSignature = scramHmac(mechanism, secrets.storedKey, message);
    const proofBytes = decodeBase64Strict(proof);
    const length = hashLengthOf(mechanism);
    let verified = false;
    if (proofBytes !== undefined && proofBytes.length === length) {
      const clientKey = Buffer.alloc(length);
      for (let i = 0; i < length; i++) {
        clientKey[i] = (clientSignature[i] ?? 0) ^ (proofBytes[i] ?? 0);
      }
      verified = timingSafeEqual(scramHash(mechanism, clientKey), secrets.storedKey);
    }
    if (!verified) {
      throw failure(
        ErrorCodes.AuthenticationFailed,
        'SCRAM authentication failed, storedKey mismatch',
      );
    }

    // ServerSignature := HMAC(ServerKey, AuthMessage)
    const serverSignature = scramHmac(mechanism, secrets.serverKey, message).toString('base64');
    return { payload: bytesOf(`v=${serverSignature}`), done: this.#skipEmptyExchange };
  }
}
