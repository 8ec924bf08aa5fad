import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  createScramCredential,
  createScramCredentials,
  DEFAULT_SCRAM_SHA1_ITERATION_COUNT,
  DEFAULT_SCRAM_SHA256_ITERATION_COUNT,
  deriveScramCredential,
  isScramMechanism,
  isValidScramCredential,
  mongoPasswordDigest,
  saslPrepPassword,
  SCRAM_MECHANISMS,
  type ScramMechanism,
  type StoredCredentials,
} from '../../../src/auth/credentials.js';
import {
  AUTHENTICATION_FAILED_MESSAGE,
  decodeScramUsername,
  encodeScramUsername,
  parseSaslStartOptions,
  saslSupportedMechsFor,
  ScramAuthenticationError,
  ScramServerConversation,
  type CredentialLookup,
  type ScramConversationOptions,
} from '../../../src/auth/scram.js';
import { MongoError } from '../../../src/errors.js';
import { ScramClient } from './scramClient.js';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const s = (payload: Buffer): string => payload.toString('utf8');

/** Low iteration counts keep the suite fast; 4096 is mongod's floor. */
const FAST = { scramIterationCount: 4096, scramSHA256IterationCount: 4096 } as const;

function users(entries: Record<string, StoredCredentials>): CredentialLookup {
  const map = new Map(Object.entries(entries));
  return (user) => map.get(user);
}

function caught(fn: () => unknown): ScramAuthenticationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ScramAuthenticationError);
    return err as ScramAuthenticationError;
  }
  throw new Error('expected a ScramAuthenticationError');
}

/** Asserts the wire error is mongod's masked one and returns mongod's internal reason. */
function wireFailure(fn: () => unknown): ScramAuthenticationError['reason'] {
  const err = caught(fn);
  expect(err).toBeInstanceOf(MongoError);
  expect(err.code).toBe(18);
  expect(err.codeName).toBe('AuthenticationFailed');
  expect(err.message).toBe('Authentication failed.');
  expect(err.extra).toEqual({});
  return err.reason;
}

interface Run {
  server: ScramServerConversation;
  client: ScramClient;
}

function startConversation(
  mechanism: ScramMechanism,
  lookup: CredentialLookup,
  user: string,
  password: string,
  options: ScramConversationOptions = {},
): Run & { serverFirst: Buffer } {
  const server = new ScramServerConversation(mechanism, lookup, options);
  const client = new ScramClient(mechanism, user, password);
  const serverFirst = server.step(client.clientFirst()).payload;
  return { server, client, serverFirst };
}

describe('credentials (mongod createUser)', () => {
  test('the SCRAM-SHA-1 password is hex(md5("<user>:mongo:<password>"))', () => {
    expect(mongoPasswordDigest('user', 'pencil')).toBe('1c33006ec1ffd90f9cadcbcc0e118200');
    expect(mongoPasswordDigest('user', 'pencil')).toBe(
      createHash('md5').update('user:mongo:pencil').digest('hex'),
    );
  });

  test('credentials document shape, default iteration counts, salt lengths 16 / 28', () => {
    const creds = createScramCredentials('user', 'pencil');
    expect(Object.keys(creds)).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    const sha1 = creds['SCRAM-SHA-1'];
    const sha256 = creds['SCRAM-SHA-256'];
    expect(sha1 && Object.keys(sha1)).toEqual(['iterationCount', 'salt', 'storedKey', 'serverKey']);
    expect(sha1?.iterationCount).toBe(DEFAULT_SCRAM_SHA1_ITERATION_COUNT);
    expect(sha256?.iterationCount).toBe(DEFAULT_SCRAM_SHA256_ITERATION_COUNT);
    expect(DEFAULT_SCRAM_SHA1_ITERATION_COUNT).toBe(10000);
    expect(DEFAULT_SCRAM_SHA256_ITERATION_COUNT).toBe(15000);
    expect(Buffer.from(sha1?.salt ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(sha256?.salt ?? '', 'base64')).toHaveLength(28);
    expect(Buffer.from(sha1?.storedKey ?? '', 'base64')).toHaveLength(20);
    expect(Buffer.from(sha1?.serverKey ?? '', 'base64')).toHaveLength(20);
    expect(Buffer.from(sha256?.storedKey ?? '', 'base64')).toHaveLength(32);
    expect(Buffer.from(sha256?.serverKey ?? '', 'base64')).toHaveLength(32);
    expect(isValidScramCredential('SCRAM-SHA-1', sha1 ?? ({} as never))).toBe(true);
    expect(isValidScramCredential('SCRAM-SHA-256', sha256 ?? ({} as never))).toBe(true);
  });

  test('iteration counts are taken from the parameters; salts are fresh every time', () => {
    const a = createScramCredentials('user', 'pencil', {
      scramIterationCount: 5000,
      scramSHA256IterationCount: 6000,
    });
    const again = createScramCredentials('user', 'pencil', FAST);
    expect(a['SCRAM-SHA-1']?.iterationCount).toBe(5000);
    expect(a['SCRAM-SHA-256']?.iterationCount).toBe(6000);
    expect(a['SCRAM-SHA-1']?.salt).not.toBe(again['SCRAM-SHA-1']?.salt);
    expect(a['SCRAM-SHA-1']?.storedKey).not.toBe(again['SCRAM-SHA-1']?.storedKey);
  });

  test('mechanisms restricts the document', () => {
    expect(Object.keys(createScramCredentials('u', 'p', { ...FAST, mechanisms: ['SCRAM-SHA-256'] }))).toEqual([
      'SCRAM-SHA-256',
    ]);
  });

  test('an iteration count under 4096 is mongod uassert 50662', () => {
    let err: unknown;
    try {
      createScramCredential('SCRAM-SHA-256', 'u', 'p', 4095);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MongoError);
    expect((err as MongoError).code).toBe(50662);
    expect((err as MongoError).codeName).toBe('Location50662');
  });

  test('the same salt and password give the same keys (deterministic derivation)', () => {
    const salt = Buffer.alloc(28, 7);
    expect(createScramCredential('SCRAM-SHA-256', 'u', 'p', 4096, salt)).toEqual(
      createScramCredential('SCRAM-SHA-256', 'other-user', 'p', 4096, salt),
    );
    // SHA-1 hashes the digest, which includes the user name.
    const salt1 = Buffer.alloc(16, 7);
    expect(createScramCredential('SCRAM-SHA-1', 'u', 'p', 4096, salt1).storedKey).not.toBe(
      createScramCredential('SCRAM-SHA-1', 'other-user', 'p', 4096, salt1).storedKey,
    );
    expect(createScramCredential('SCRAM-SHA-1', 'u', 'p', 4096, salt1)).toEqual(
      deriveScramCredential('SCRAM-SHA-1', mongoPasswordDigest('u', 'p'), salt1, 4096),
    );
  });

  test('SASLprep: "\\u2168" (ROMAN NUMERAL NINE) is "IX" for SCRAM-SHA-256, not for SCRAM-SHA-1', () => {
    expect(saslPrepPassword('\u2168')).toBe('IX');
    expect(saslPrepPassword('I\u00ADX')).toBe('IX'); // soft hyphen is mapped to nothing
    expect(saslPrepPassword('\u00A0a')).toBe(' a'); // non-ASCII space is mapped to SPACE
    const salt256 = Buffer.alloc(28, 1);
    expect(createScramCredential('SCRAM-SHA-256', 'u', '\u2168', 4096, salt256)).toEqual(
      createScramCredential('SCRAM-SHA-256', 'u', 'IX', 4096, salt256),
    );
    const salt1 = Buffer.alloc(16, 1);
    expect(createScramCredential('SCRAM-SHA-1', 'u', '\u2168', 4096, salt1)).not.toEqual(
      createScramCredential('SCRAM-SHA-1', 'u', 'IX', 4096, salt1),
    );
  });

  test('SASLprep refuses prohibited characters like ICU: Location50693', () => {
    for (const [password, icu] of [
      ['a\u0007b', 'U_STRINGPREP_PROHIBITED_ERROR'],
      ['\u0221', 'U_STRINGPREP_UNASSIGNED_ERROR'],
      ['\u05BEa', 'U_STRINGPREP_CHECK_BIDI_ERROR'],
    ] as const) {
      let err: unknown;
      try {
        createScramCredentials('u', password, FAST);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MongoError);
      expect((err as MongoError).code).toBe(50693);
      expect((err as MongoError).message).toBe(`Failed normalizing string: ${icu}`);
    }
    // SCRAM-SHA-1 alone never SASLpreps.
    expect(() => createScramCredentials('u', 'a\u0007b', { ...FAST, mechanisms: ['SCRAM-SHA-1'] })).not.toThrow();
  });

  test('isScramMechanism / SCRAM_MECHANISMS', () => {
    expect(SCRAM_MECHANISMS).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    expect(isScramMechanism('SCRAM-SHA-256')).toBe(true);
    expect(isScramMechanism('PLAIN')).toBe(false);
    expect(isScramMechanism('scram-sha-1')).toBe(false);
  });
});

describe('RFC test vectors (user "user", password "pencil")', () => {
  test('RFC 5802 §5 SCRAM-SHA-1', () => {
    const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
    const credential = deriveScramCredential('SCRAM-SHA-1', 'pencil', salt, 4096);
    const server = new ScramServerConversation('SCRAM-SHA-1', users({ user: { 'SCRAM-SHA-1': credential } }), {
      serverNonce: '3rfcNHYJY1ZVvWVs7j',
      skipEmptyExchange: true,
    });
    const first = server.step(b('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect(s(first.payload)).toBe('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096');
    expect(first.done).toBe(false);
    const final = server.step(
      b('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='),
    );
    expect(s(final.payload)).toBe('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
    expect(final.done).toBe(true);
    expect(server.done).toBe(true);
    expect(server.principalName).toBe('user');
  });

  test('RFC 7677 §3 SCRAM-SHA-256', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const credential = deriveScramCredential('SCRAM-SHA-256', saslPrepPassword('pencil'), salt, 4096);
    const server = new ScramServerConversation('SCRAM-SHA-256', users({ user: { 'SCRAM-SHA-256': credential } }), {
      serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      skipEmptyExchange: true,
    });
    const first = server.step(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(s(first.payload)).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    const final = server.step(
      b(
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      ),
    );
    expect(s(final.payload)).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    expect(final.done).toBe(true);
  });

  test('the test client reproduces the RFC client messages', () => {
    const c1 = new ScramClient('SCRAM-SHA-1', 'user', '', { nonce: 'fyko+d2lbbFgONRv9qkxdawL', preparedPassword: 'pencil' });
    expect(s(c1.clientFirst())).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    expect(s(c1.clientFinal(b('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096')))).toBe(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    );
    expect(c1.verifyServerFinal(b('v=rmF9pqV8S7suAoZWja4dJRkFsKQ='))).toBe(true);

    const c256 = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', { nonce: 'rOprNGfwEbeRWgbNEkqO' });
    c256.clientFirst();
    expect(
      s(c256.clientFinal(b('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))),
    ).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(c256.verifyServerFinal(b('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).toBe(true);
  });
});

describe.each(SCRAM_MECHANISMS)('full conversation, %s', (mechanism) => {
  const lookup = users({ user: createScramCredentials('user', 'pencil', FAST) });

  test('skipEmptyExchange: done after server-final (2 steps, as the Node driver and pymongo)', () => {
    const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencil', {
      skipEmptyExchange: true,
    });
    expect(server.totalSteps).toBe(2);
    expect(s(serverFirst)).toMatch(new RegExp(`^r=${escape(client.clientNonce)}[A-Za-z0-9+/]{32},s=[^,]+,i=4096$`));
    const final = server.step(client.clientFinal(serverFirst));
    expect(final.done).toBe(true);
    expect(client.verifyServerFinal(final.payload)).toBe(true);
    expect(server.done).toBe(true);
    expect(server.currentStep).toBe(2);
    expect(server.principalName).toBe('user');
    // Nothing follows: a third step is mongod's "Invalid SCRAM authentication step: 3".
    expect(wireFailure(() => server.step(Buffer.alloc(0)))).toEqual({
      code: 18,
      codeName: 'AuthenticationFailed',
      errmsg: 'Invalid SCRAM authentication step: 3',
    });
  });

  test('without skipEmptyExchange: server-final is not done, an empty exchange finishes', () => {
    const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencil');
    expect(server.totalSteps).toBe(3);
    const final = server.step(client.clientFinal(serverFirst));
    expect(final.done).toBe(false);
    expect(server.done).toBe(false);
    expect(client.verifyServerFinal(final.payload)).toBe(true);
    const last = server.step(Buffer.alloc(0));
    expect(last).toEqual({ payload: Buffer.alloc(0), done: true });
    expect(server.done).toBe(true);
  });

  test('each conversation draws a new 32-character server nonce', () => {
    const one = startConversation(mechanism, lookup, 'user', 'pencil');
    const two = startConversation(mechanism, lookup, 'user', 'pencil');
    const nonceOf = (run: Run & { serverFirst: Buffer }): string =>
      s(run.serverFirst).split(',')[0]?.slice(2 + run.client.clientNonce.length) ?? '';
    expect(nonceOf(one)).toHaveLength(32);
    expect(nonceOf(one)).not.toBe(nonceOf(two));
  });

  test('wrong password → 18 at client-final (storedKey mismatch)', () => {
    const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencils');
    expect(wireFailure(() => server.step(client.clientFinal(serverFirst)))).toEqual({
      code: 18,
      codeName: 'AuthenticationFailed',
      errmsg: 'SCRAM authentication failed, storedKey mismatch',
    });
    expect(server.failed).toBe(true);
    expect(server.done).toBe(false);
  });

  test('unknown user → the same 18 "Authentication failed." (at client-first, as mongod)', () => {
    const server = new ScramServerConversation(mechanism, lookup, { db: 'test' });
    const unknown = caught(() => server.step(new ScramClient(mechanism, 'nobody', 'pencil').clientFirst()));
    expect(unknown.reason).toEqual({
      code: 11,
      codeName: 'UserNotFound',
      errmsg: 'Could not find user "nobody" for db "test"',
    });
    expect(server.principalName).toBe('nobody');

    const wrong = startConversation(mechanism, lookup, 'user', 'nope');
    const wrongPassword = caught(() => wrong.server.step(wrong.client.clientFinal(wrong.serverFirst)));
    expect([unknown.code, unknown.codeName, unknown.message]).toEqual([
      wrongPassword.code,
      wrongPassword.codeName,
      wrongPassword.message,
    ]);
    expect(unknown.message).toBe(AUTHENTICATION_FAILED_MESSAGE);
  });

  test("unknownUsers: 'mock' answers a plausible server-first and fails at client-final", () => {
    const secret = Buffer.alloc(32, 9);
    const options = { unknownUsers: 'mock', mockSecret: secret } as const;
    const real = startConversation(mechanism, lookup, 'user', 'pencil', options);
    const fake = startConversation(mechanism, lookup, 'ghost', 'pencil', options);
    const fakeAgain = startConversation(mechanism, lookup, 'ghost', 'other', options);
    const other = startConversation(mechanism, lookup, 'ghost2', 'pencil', options);
    const attrs = (payload: Buffer): Record<string, string> =>
      Object.fromEntries(s(payload).split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)]));
    const f = attrs(fake.serverFirst);
    expect(Buffer.from(f['s'] ?? '', 'base64')).toHaveLength(mechanism === 'SCRAM-SHA-1' ? 16 : 28);
    expect(f['i']).toBe(mechanism === 'SCRAM-SHA-1' ? '10000' : '15000');
    expect(f['s']).toBe(attrs(fakeAgain.serverFirst)['s']); // stable per user
    expect(f['s']).not.toBe(attrs(other.serverFirst)['s']);
    expect(f['r']?.length).toBe(attrs(real.serverFirst)['r']?.length);

    const unknown = caught(() => fake.server.step(fake.client.clientFinal(fake.serverFirst)));
    expect(unknown.code).toBe(18);
    expect(unknown.message).toBe('Authentication failed.');
    expect(unknown.reason.codeName).toBe('UserNotFound');
    // The real user still authenticates in mock mode.
    expect(real.server.step(real.client.clientFinal(real.serverFirst)).payload.subarray(0, 2).toString()).toBe('v=');
  });

  test('a tampered nonce → 18 (BadValue "Unmatched SCRAM nonce ...")', () => {
    const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencil');
    const final = s(client.clientFinal(serverFirst));
    const nonce = /,r=([^,]+),/.exec(final)?.[1] ?? '';
    // The last character replaced by another one (a nonce that already ends in X gets a Y).
    const last = nonce.endsWith('X') ? 'Y' : 'X';
    const tampered = final.replace(`r=${nonce}`, `r=${nonce.slice(0, -1)}${last}`);
    expect(wireFailure(() => server.step(b(tampered)))).toEqual({
      code: 2,
      codeName: 'BadValue',
      errmsg: `Unmatched SCRAM nonce received from client in second step, expected ${nonce} but received ${nonce.slice(0, -1)}${last}`,
    });
  });

  test('a tampered proof, a short proof or a non-base64 proof → 18 (storedKey mismatch)', () => {
    for (const mangle of [
      (p: Buffer): Buffer => Buffer.from(p.map((x, i) => (i === 0 ? x ^ 1 : x))),
      (p: Buffer): Buffer => p.subarray(1),
    ]) {
      const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencil');
      const final = s(client.clientFinal(serverFirst));
      const proof = Buffer.from(final.slice(final.lastIndexOf(',p=') + 3), 'base64');
      const forged = `${final.slice(0, final.lastIndexOf(',p='))},p=${mangle(proof).toString('base64')}`;
      expect(wireFailure(() => server.step(b(forged))).errmsg).toBe('SCRAM authentication failed, storedKey mismatch');
    }
    const { server, client, serverFirst } = startConversation(mechanism, lookup, 'user', 'pencil');
    const final = s(client.clientFinal(serverFirst));
    expect(wireFailure(() => server.step(b(`${final.slice(0, final.lastIndexOf(',p='))},p=!!!!`))).errmsg).toBe(
      'SCRAM authentication failed, storedKey mismatch',
    );
  });

  test('a user without credentials for this mechanism → 18 (MechanismUnavailable inside)', () => {
    const otherMechanism: ScramMechanism = mechanism === 'SCRAM-SHA-1' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-1';
    const only = users({ user: createScramCredentials('user', 'pencil', { ...FAST, mechanisms: [otherMechanism] }) });
    const server = new ScramServerConversation(mechanism, only);
    expect(wireFailure(() => server.step(new ScramClient(mechanism, 'user', 'pencil').clientFirst()))).toEqual({
      code: 334,
      codeName: 'MechanismUnavailable',
      errmsg: `Unable to use ${mechanism} based authentication for user without any ${mechanism} credentials registered`,
    });
  });

  test('corrupt stored credentials → 18', () => {
    const good = createScramCredentials('user', 'pencil', FAST)[mechanism];
    if (!good) throw new Error('no credential');
    const corrupt = users({ user: { [mechanism]: { ...good, storedKey: 'AAAA' } } });
    const server = new ScramServerConversation(mechanism, corrupt);
    expect(wireFailure(() => server.step(new ScramClient(mechanism, 'user', 'pencil').clientFirst())).errmsg).toBe(
      `Unable to validate ${mechanism} authentication due to corrupted stored credentials`,
    );
  });

  test('user names with "," and "=" travel as =2C / =3D and are decoded for the lookup', () => {
    const names = ['a,b', 'x=y', 'we=ird,na=2Cme', '=3D', 'üser'];
    const seen: string[] = [];
    const table = new Map(names.map((name) => [name, createScramCredentials(name, 'pw', FAST)]));
    const lookupSpy: CredentialLookup = (user) => {
      seen.push(user);
      return table.get(user);
    };
    for (const name of names) {
      const { server, client, serverFirst } = startConversation(mechanism, lookupSpy, name, 'pw', {
        skipEmptyExchange: true,
      });
      const final = server.step(client.clientFinal(serverFirst));
      expect(final.done).toBe(true);
      expect(client.verifyServerFinal(final.payload)).toBe(true);
      expect(server.principalName).toBe(name);
    }
    expect(seen).toEqual(names);
    expect(encodeScramUsername('we=ird,na=2Cme')).toBe('we=3Dird=2Cna=3D2Cme');
  });
});

describe('SASLprep in a SCRAM-SHA-256 conversation', () => {
  const lookup = users({ user: createScramCredentials('user', '\u2168', FAST) });

  test('a client typing "IX" matches a password stored as "\\u2168" (both sides SASLprep)', () => {
    for (const typed of ['IX', '\u2168']) {
      const { server, client, serverFirst } = startConversation('SCRAM-SHA-256', lookup, 'user', typed, {
        skipEmptyExchange: true,
      });
      expect(server.step(client.clientFinal(serverFirst)).done).toBe(true);
    }
  });

  test('a client that skips SASLprep fails', () => {
    const server = new ScramServerConversation('SCRAM-SHA-256', lookup);
    const client = new ScramClient('SCRAM-SHA-256', 'user', '', { preparedPassword: '\u2168' });
    const serverFirst = server.step(client.clientFirst()).payload;
    expect(wireFailure(() => server.step(client.clientFinal(serverFirst))).codeName).toBe('AuthenticationFailed');
  });

  test('SCRAM-SHA-1 does not SASLprep: "IX" is not "\\u2168"', () => {
    const { server, client, serverFirst } = startConversation('SCRAM-SHA-1', lookup, 'user', 'IX');
    expect(wireFailure(() => server.step(client.clientFinal(serverFirst))).errmsg).toBe(
      'SCRAM authentication failed, storedKey mismatch',
    );
    const ok = startConversation('SCRAM-SHA-1', lookup, 'user', '\u2168', { skipEmptyExchange: true });
    expect(ok.server.step(ok.client.clientFinal(ok.serverFirst)).done).toBe(true);
  });
});

describe('malformed client-first (mongod _firstStep; all 18 on the wire)', () => {
  const lookup = users({ user: createScramCredentials('user', 'pencil', FAST) });
  const reasonFor = (payload: string): string => {
    const server = new ScramServerConversation('SCRAM-SHA-256', lookup);
    const reason = wireFailure(() => server.step(b(payload)));
    expect(server.failed).toBe(true);
    return `${reason.codeName}: ${reason.errmsg}`;
  };

  test.each([
    ['', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 1 expected at least 3'],
    ['garbage', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 1 expected at least 3'],
    ['p=tls-unique,,n=user,r=abcdefgh', 'BadValue: Server does not support channel binding'],
    ['p=tls-server-end-point,,n=user,r=abcdefgh', 'BadValue: Server does not support channel binding'],
    ['x,,n=user,r=abcdefgh', 'BadValue: Incorrect SCRAM client message prefix: x'],
    ['N,,n=user,r=abcdefgh', 'BadValue: Incorrect SCRAM client message prefix: N'],
    ['n,n=user', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 2 expected at least 3'],
    ['n,,', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 2 expected at least 3'],
    ['n,,n=user', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 3 expected at least 3'],
    ['n,,n=user,,', 'BadValue: Incorrect number of arguments for first SCRAM client message, got 3 expected at least 3'],
    ['n,x,n=user,r=abcdefgh', 'BadValue: Incorrect SCRAM authzid: x'],
    ['n,a=other,n=user,r=abcdefgh', 'BadValue: SCRAM user name user does not match authzid other'],
    ['n,,m=ext,n=user,r=abcdefgh', 'BadValue: SCRAM mandatory extensions are not supported'],
    ['n,,u=user,r=abcdefgh', 'BadValue: Invalid SCRAM user name: u=user'],
    ['n,,n=,r=abcdefgh', 'BadValue: Invalid SCRAM user name: n='],
    ['n,,r=abcdefgh,n=user', 'BadValue: Invalid SCRAM user name: r=abcdefgh'],
    ['n,,n=user,r=abc', 'BadValue: Invalid SCRAM client nonce: r=abc'],
    ['n,,n=user,x=abcdefgh', 'BadValue: Invalid SCRAM client nonce: x=abcdefgh'],
  ])('%j → %s', (payload, expected) => {
    expect(reasonFor(payload)).toBe(expected);
  });

  test('accepted variants: "y" flag, matching authzid, doubled commas, extensions after the nonce', () => {
    for (const first of ['y,,n=user,r=abcd', 'n,a=user,n=user,r=abcd', 'n,,n=user,,r=abcd', 'n,,n=user,r=abcd,x=ext']) {
      const server = new ScramServerConversation('SCRAM-SHA-256', lookup, { serverNonce: 'SERVER' });
      expect(s(server.step(b(first)).payload)).toMatch(/^r=abcdSERVER,s=[^,]+,i=4096$/);
    }
  });

  test('decodeScramUsername is mongod\'s replace_all: =2C then =3D, no rejection', () => {
    expect(decodeScramUsername('a=2Cb=3Dc')).toBe('a,b=c');
    expect(decodeScramUsername('=3D2C')).toBe('=2C');
    expect(decodeScramUsername('x=41')).toBe('x=41');
  });
});

describe('malformed client-final and channel binding (mongod _secondStep)', () => {
  const lookup = users({ user: createScramCredentials('user', 'pencil', FAST) });
  const NONCE = 'clientNONCEserverNONCE';

  function afterFirst(first = 'n,,n=user,r=clientNONCE', options: ScramConversationOptions = {}): ScramServerConversation {
    const server = new ScramServerConversation('SCRAM-SHA-256', lookup, { serverNonce: 'serverNONCE', ...options });
    server.step(b(first));
    return server;
  }
  const reasonFor = (payload: string): string => {
    const reason = wireFailure(() => afterFirst().step(b(payload)));
    return `${reason.codeName}: ${reason.errmsg}`;
  };

  test.each([
    ['', 'BadValue: Incorrect number of arguments for second SCRAM client message, got 1 expected at least 3'],
    ['c=biws', 'BadValue: Incorrect number of arguments for second SCRAM client message, got 1 expected at least 3'],
    [`c=biws,r=${NONCE},x=proof`, 'BadValue: Incorrect SCRAM ClientProof: x=proof'],
    [`c=biws,r=${NONCE},p=`, 'BadValue: Incorrect SCRAM ClientProof: p='],
    ['c=biws,p=AAAA', 'BadValue: Incorrect number of arguments for second SCRAM client message, got 2 expected at least 3'],
    [`x=biws,r=${NONCE},p=AAAA`, 'BadValue: Incorrect SCRAM channel binding: x=biws'],
    [`c=,r=${NONCE},p=AAAA`, 'BadValue: Incorrect SCRAM channel binding: c='],
    [`c=eSws,r=${NONCE},p=AAAA`, 'BadValue: Incorrect SCRAM channel binding: c=eSws'],
    ['c=biws,r=abc,p=AAAA', 'BadValue: Incorrect SCRAM client|server nonce: r=abc'],
    [`c=biws,n=${NONCE},p=AAAA`, 'BadValue: Incorrect SCRAM client|server nonce: n=clientNONCEserverNONCE'],
    ['c=biws,r=clientNONCE,p=AAAA', `BadValue: Unmatched SCRAM nonce received from client in second step, expected ${NONCE} but received clientNONCE`],
  ])('%j → %s', (payload, expected) => {
    expect(reasonFor(payload)).toBe(expected);
  });

  test('c= must be base64 of the gs2 header the client sent ("y,," → eSws, "n,a=user," → bixhPXVzZXIs)', () => {
    const client = (first: string, cbind: string): string => {
      const server = afterFirst(first);
      try {
        server.step(b(`c=${cbind},r=${NONCE},p=AAAA`));
      } catch (err) {
        return (err as ScramAuthenticationError).reason.errmsg;
      }
      return 'accepted';
    };
    // The right binding gets as far as the proof check.
    expect(client('y,,n=user,r=clientNONCE', 'eSws')).toBe('SCRAM authentication failed, storedKey mismatch');
    expect(client('y,,n=user,r=clientNONCE', 'biws')).toBe('Incorrect SCRAM channel binding: c=biws');
    expect(client('n,a=user,n=user,r=clientNONCE', 'bixhPXVzZXIs')).toBe(
      'SCRAM authentication failed, storedKey mismatch',
    );
    expect(client('n,a=user,n=user,r=clientNONCE', 'biws')).toBe('Incorrect SCRAM channel binding: c=biws');
  });

  test('verifyChannelBinding: false accepts any non-empty c= (mongod)', () => {
    const server = afterFirst(undefined, { verifyChannelBinding: false });
    expect(wireFailure(() => server.step(b(`c=anything,r=${NONCE},p=AAAA`))).errmsg).toBe(
      'SCRAM authentication failed, storedKey mismatch',
    );
  });

  test('a failed conversation cannot continue', () => {
    const server = afterFirst();
    wireFailure(() => server.step(b('c=biws,r=clientNONCE,p=AAAA')));
    expect(server.failed).toBe(true);
    expect(wireFailure(() => server.step(b('c=biws,r=clientNONCE,p=AAAA'))).errmsg).toBe(
      'SCRAM conversation already failed',
    );
  });
});

describe('saslStart options and saslSupportedMechs', () => {
  test('parseSaslStartOptions (mongod setOptions)', () => {
    expect(parseSaslStartOptions(undefined)).toEqual({ skipEmptyExchange: false });
    expect(parseSaslStartOptions({})).toEqual({ skipEmptyExchange: false });
    expect(parseSaslStartOptions({ skipEmptyExchange: true })).toEqual({ skipEmptyExchange: true });
    expect(parseSaslStartOptions({ skipEmptyExchange: false, other: 1 })).toEqual({ skipEmptyExchange: false });
    let err: unknown;
    try {
      parseSaslStartOptions({ skipEmptyExchange: 1 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MongoError);
    expect(err).not.toBeInstanceOf(ScramAuthenticationError);
    expect((err as MongoError).code).toBe(2);
    expect((err as MongoError).message).toBe('skipEmptyExchange must be boolean');
  });

  test('saslSupportedMechsFor lists the mechanisms with valid credentials, in registry order', () => {
    const both = createScramCredentials('u', 'p', FAST);
    expect(saslSupportedMechsFor(both)).toEqual(['SCRAM-SHA-1', 'SCRAM-SHA-256']);
    expect(saslSupportedMechsFor({ 'SCRAM-SHA-256': both['SCRAM-SHA-256'] })).toEqual(['SCRAM-SHA-256']);
    expect(saslSupportedMechsFor(undefined)).toBeUndefined();
    expect(saslSupportedMechsFor({})).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
