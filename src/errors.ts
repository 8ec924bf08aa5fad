import { Double, type Document } from 'bson';

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
  UserNotFound: 11,
  UnsupportedFormat: 12,
  Unauthorized: 13,
  TypeMismatch: 14,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  InvalidBSON: 22,
  RoleNotFound: 31,
  NamespaceNotFound: 26,
  CursorNotFound: 43,
  NamespaceExists: 48,
  CommandNotFound: 59,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  ProtocolError: 17,
  ShutdownInProgress: 91,
  OperationFailed: 96,
  CommandNotSupported: 115,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexNotFound: 27,
  IndexKeySpecsConflict: 86,
  DollarPrefixedFieldName: 52,
  ClientMetadataCannotBeMutated: 186,
  InvalidUUID: 207,
  UnknownFeatureCompatibilityVersion: 258,
  TooManyLogicalSessions: 261,
  OperationNotSupportedInTransaction: 263,
  APIVersionError: 322,
  APIStrictError: 323,
  MechanismUnavailable: 334,
  UnsupportedOpQueryCommand: 352,
  DuplicateKey: 11000,
  Interrupted: 11601,
  MergeStageNoMatchingDocument: 13113,
  InvalidLength: 16,
  Overflow: 15,
  InvalidIdField: 53,
  BSONObjectTooLarge: 10334,
  ConversionFailure: 241,
  QueryFeatureNotAllowed: 224,
  PathNotViable: 28,
  CannotBackfillArray: 34,
  ConflictingUpdateOperators: 40,
  InvalidDBRef: 55,
  EmptyFieldName: 56,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/**
 * Codes mongod raises from a uassert location rather than a named error: their codeName is
 * `Location<code>`. Named here so code says what they mean.
 */
export const LocationCodes = {
  IdlDuplicateField: 40413,
  IdlMissingField: 40414,
  IdlUnknownField: 40415,
  IdlValidatorFailed: 51024,
  MultipleBodySections: 40430,
  DuplicateDocumentSequence: 40431,
  UnknownSectionKind: 40432,
  BodyAndSequenceDuplicate: 40433,
  MissingDollarDb: 40571,
  OpMsgWithoutBody: 40587,
  StageNotFirst: 40602,
  UnrecognizedStage: 40324,
  StageNotSingleField: 40323,
  ChecksumMessageTooShort: 51252,
  TopologyVersionWithoutAwait: 31368,
  NegativeTopologyCounter: 31372,
  ExhaustWithoutAwait: 51756,
  TopologyCounterMismatch: 51764,
  TxnNumberNotAllowed: 50889,
  GetMoreCursorNotInSession: 50736,
  GetMoreWithoutSession: 50737,
  GetMoreOtherSession: 50738,
  ApiStrictWithoutVersion: 4886600,
  UserAlreadyExists: 51003,
  AuthenticatedTwiceAsOtherUser: 5626701,
  AuthenticatedTwiceOtherDb: 5626702,
  UpdateResultTooLarge: 17419,
  ChangeStreamNotReplicaSet: 40573,
  StageNotLast: 40601,
  NotAllowedInFacet: 40600,
  NotAllowedInLookup: 51047,
  NotAllowedInUnionWith: 31441,
  GraphLookupMaxDepthNotNumeric: 40100,
  GraphLookupMaxDepthNegative: 40101,
  GraphLookupMaxDepthNotIntegral: 40102,
  GraphLookupExpectedString: 40103,
  GraphLookupUnknownArgument: 40104,
  GraphLookupMissingArgument: 40105,
  GraphLookupRestrictNotObject: 40185,
  OutSpecWrongType: 16990,
  OutToSpecialCollection: 17385,
  OutToInternalDatabase: 31321,
  MergeToSpecialCollection: 31319,
  MergeToInternalDatabase: 31320,
  MergeModesUnsupported: 51181,
  MergeIntoWrongType: 51178,
  MergeIntoEmptyString: 5786800,
  MergeIntoEmptyColl: 5786801,
  MergeOnWrongType: 51186,
  MergeOnElementNotString: 51134,
  MergeOnEmpty: 51187,
  MergeOnDuplicateField: 31465,
  MergeOnNoUniqueIndex: 51183,
  MergeOnValueInvalid: 51132,
  MergeWhenMatchedWrongType: 51191,
  MergeLetWithoutPipeline: 51199,
  MergeLetRedefinesNew: 51273,
  CollStatsSpecNotObject: 5447000,
  InvalidRegex: 51091,
  MatchNotObject: 15959,
  /** A removed legacy read (OP_QUERY on a collection, OP_GET_MORE): dbmessage.cpp makeErrorResponseToUnsupportedOpQuery. */
  LegacyOpRemoved: 5739101,
  /** SASLprep failed on a password or user name (saslprep's "Failed normalizing string"). */
  SaslPrepFailed: 50693,
  /** A SCRAM iteration count below the minimum. */
  InvalidIterationCount: 50662,
  /** A regex option other than imsxlu (RegexMatchExpression). */
  InvalidRegexFlag: 51108,
  // The match language, field paths and find projections (expression_parser.cpp, projection_parser.cpp).
  /** Regex options given in both the BSON regex and $options ($regex first / $options first). */
  RegexOptionsTwiceRegexFirst: 51074,
  RegexOptionsTwiceOptionsFirst: 51075,
  /** Aggregation expressions: wrong number of arguments (ExpressionFixedArity / ExpressionNary). */
  ExpressionArity: 16020,
  /** Aggregation expressions: $$name not defined. */
  UndefinedVariable: 17276,
  /** FieldPath: empty string / ends with '.' / empty component / component starting with '$'. */
  FieldPathEmpty: 40352,
  FieldPathTrailingDot: 40353,
  FieldPathEmptyComponent: 15998,
  FieldPathDollarPrefix: 16410,
  /** Projection parsing (projection_parser.cpp). */
  ProjectionPathCollisionPrefix: 31249,
  ProjectionPathCollision: 31250,
  ProjectionExpressionInExclusion: 31252,
  ProjectionInclusionInExclusion: 31253,
  ProjectionExclusionInInclusion: 31254,
  ProjectionElemMatchAfterPositional: 31255,
  ProjectionPositionalAfterElemMatch: 31256,
  ProjectionSliceSkipNotNumber: 31257,
  ProjectionSliceLimitNotNumber: 31258,
  ProjectionSliceLimitNotPositive: 31259,
  ProjectionPositionalWithObject: 31271,
  ProjectionSliceArrayForm: 31272,
  ProjectionSliceBadArgument: 31273,
  ProjectionElemMatchNotObject: 31274,
  ProjectionElemMatchNested: 31275,
  ProjectionTwoPositionals: 31276,
  ProjectionPositionalWithLiteral: 31308,
  ProjectionLiteralInExclusion: 31310,
  ProjectionUnknownExpression: 31325,
  ProjectionPositionalInMiddle: 31394,
  ProjectionPositionalExclusion: 31395,
  ProjectionPositionalNeedsMatcher: 51050,
  ProjectionPositionalNoMatch: 51246,
  ProjectionPositionalMismatch: 51247,
  ProjectionEmptySubProjection: 51270,
  ProjectionDotDollar: 5392900,
  // Arithmetic (evaluate_math.cpp, Value::coerceToLong).
  /** "only one date allowed in an $add expression" (AddState). */
  AddMoreThanOneDate: 16612,
  /** "can't $mod by zero" for int/long/double operands (evaluateMod). */
  ModByZero: 16610,
  /** "can't $mod by zero" when an operand is a decimal (evaluateMod). */
  ModDecimalByZero: 5733415,
  /** "$mod only supports numeric types, not <t1> and <t2>" (evaluateMod). */
  ModNotNumeric: 16611,
  /** "can't take $abs of long long min" ($abs). */
  AbsLongLongMin: 28680,
  /** "<op> only supports numeric types, not <t>" (evaluateSingleNumericArg: $abs, ...). */
  SingleNumericArgNotNumeric: 28765,
  /** "invalid conversion from Decimal128 result in <op> resulting from arguments: [v, p]". */
  RoundTruncInvalidConversion: 51080,
  /** "<op> only supports numeric types, not <t>" ($round / $trunc). */
  RoundTruncNotNumeric: 51081,
  /** "precision argument to  <op> must be a integral value" (two spaces, as mongod). */
  RoundTruncPrecisionNotIntegral: 51082,
  /** "cannot apply <op> with precision value <p> value must be in [-20, 100]". */
  RoundTruncPrecisionOutOfRange: 51083,
  /** "can't convert from BSON type <t> to long" (Value::coerceToLong). */
  CoerceToLongBadType: 16004,
  /** "Can't coerce out of range value <v> to long" (Value::coerceToLong of a double). */
  CoerceToLongOutOfRange: 31109,
} as const;

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

const NOT_OK = new Double(0);

/** mongod's error reply document: `{ok: 0, errmsg, code, codeName}` and the error's extra fields. */
export function errorReply(err: MongoError): Document {
  return { ok: NOT_OK, errmsg: err.message, code: err.code, codeName: err.codeName, ...err.extra };
}

/** A violation of the wire protocol after which mongod closes the connection instead of replying. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
