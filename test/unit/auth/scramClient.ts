/**
 * A minimal SCRAM client (RFC 5802 §3/§5) that talks like the Node driver and pymongo
 * (client-handshake.md §4b): gs2 header "n,,", no authzid, c=biws; the SCRAM-SHA-1 password is
 * mongod's md5 digest, the SCRAM-SHA-256 one is SASLprep'd. Test-only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  deriveScramKeys,
  scramHmac,
  scramPasswordFor,
  type ScramMechanism,
} from '../../../src/auth/credentials.js';
import { encodeScramUsername } from '../../../src/auth/scram.js';

export interface ScramClientOptions {
  /** Client nonce (default: 24 random bytes, base64). */
  nonce?: string;
  /** Use this exact string as the password to hash (skips the digest / SASLprep). */
  preparedPassword?: string;
  /** Override the gs2 header (default "n,,"). */
  gs2Header?: string;
}

export class ScramClient {
  readonly mechanism: ScramMechanism;
  readonly user: string;
  readonly #password: string;
  readonly #gs2Header: string;
  readonly clientNonce: string;
  #clientFirstBare = '';
  #authMessage = '';
  #serverKey: Buffer | undefined;

  constructor(mechanism: ScramMechanism, user: string, password: string, options: ScramClientOptions = {}) {
    this.mechanism = mechanism;
    this.user = user;
    this.#password = options.preparedPassword ?? scramPasswordFor(mechanism, user, password);
    this.#gs2Header = options.gs2Header ?? 'n,,';
    this.clientNonce = options.nonce ?? randomBytes(24).toString('base64');
  }

  clientFirst(): Buffer {
    this.#clientFirstBare = `n=${encodeScramUsername(this.user)},r=${this.clientNonce}`;
    return Buffer.from(this.#gs2Header + this.#clientFirstBare, 'utf8');
  }

  /** Parses server-first and answers client-final. */
  clientFinal(serverFirstPayload: Buffer): Buffer {
    const serverFirst = serverFirstPayload.toString('utf8');
    const attrs = parseAttributes(serverFirst);
    const nonce = attrs.get('r') ?? '';
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    if (!nonce.startsWith(this.clientNonce)) throw new Error('server nonce does not extend ours');

    const keys = deriveScramKeys(this.mechanism, this.#password, salt, iterations);
    this.#serverKey = keys.serverKey;
    const withoutProof = `c=${Buffer.from(this.#gs2Header).toString('base64')},r=${nonce}`;
    this.#authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = scramHmac(this.mechanism, keys.storedKey, this.#authMessage);
    const proof = Buffer.from(keys.clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server signature ("v=..."); the server proves it knows the credentials too. */
  verifyServerFinal(serverFinalPayload: Buffer): boolean {
    const attrs = parseAttributes(serverFinalPayload.toString('utf8'));
    const received = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (!this.#serverKey) throw new Error('clientFinal first');
    const expected = scramHmac(this.mechanism, this.#serverKey, this.#authMessage);
    return received.length === expected.length && timingSafeEqual(received, expected);
  }
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return attrs;
}
