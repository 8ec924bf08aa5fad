/**
 * The one table of mongod error codes we answer with (src/mongo/base/error_codes.yml), and the
 * one error class every handler throws. Codes without a name in error_codes.yml are "Location"
 * codes: mongod reports their codeName as `Location<code>`.
 */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  UnsupportedFormat: 12,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  InvalidBSON: 22,
  CursorNotFound: 43,
  CommandNotFound: 59,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  ProtocolError: 17,
  ShutdownInProgress: 91,
  OperationFailed: 96,
  CommandNotSupported: 115,
  ClientMetadataCannotBeMutated: 186,
  InvalidUUID: 207,
  UnknownFeatureCompatibilityVersion: 258,
  TooManyLogicalSessions: 261,
  OperationNotSupportedInTransaction: 263,
  APIVersionError: 322,
  APIStrictError: 323,
  UnsupportedOpQueryCommand: 352,
  Interrupted: 11601,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

const namesByCode = new Map<number, string>(
  Object.entries(ErrorCodes).map(([name, code]) => [code, name]),
);

export function codeNameOf(code: number): string {
  return namesByCode.get(code) ?? `Location${code}`;
}

/** An error that becomes mongod's `{ok: 0, errmsg, code, codeName}` reply. */
export class MongoError extends Error {
  readonly code: number;
  readonly codeName: string;
  /** Extra fields mongod appends to the error reply (e.g. `errorLabels`). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: number, errmsg: string, extra: Record<string, unknown> = {}) {
    super(errmsg);
    this.name = 'MongoError';
    this.code = code;
    this.codeName = codeNameOf(code);
    this.extra = extra;
  }

  static of(name: ErrorCodeName, errmsg: string): MongoError {
    return new MongoError(ErrorCodes[name], errmsg);
  }
}

/** A violation of the wire protocol after which mongod closes the connection instead of replying. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
