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
  InvalidRoleModification: 49,
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
  DocumentValidationFailure: 121,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexNotFound: 27,
  IndexKeySpecsConflict: 86,
  DollarPrefixedFieldName: 52,
  ClientMetadataDocumentTooLarge: 185,
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
  InvalidPipelineOperator: 168,
  ExceededMemoryLimit: 146,
  PathNotViable: 28,
  CannotBackfillArray: 34,
  ConflictingUpdateOperators: 40,
  InvalidDBRef: 55,
  EmptyFieldName: 56,
  /** A capped collection scan whose position was deleted (collection_scan.cpp). */
  CappedPositionLost: 136,
  // Views (view_graph.cpp, views_for_database.cpp, run_aggregate.cpp).
  GraphContainsCycle: 5,
  ViewDepthLimitExceeded: 165,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  // Codes a client may see from a replica set or inject with the failCommand fail point (their
  // names as mongod 7.0 reports them).
  HostUnreachable: 6,
  HostNotFound: 7,
  UnknownError: 8,
  LockTimeout: 24,
  MaxTimeMSExpired: 50,
  WriteConcernFailed: 64,
  UnknownReplWriteConcern: 79,
  IndexOptionsConflict: 85,
  NetworkTimeout: 89,
  CallbackCanceled: 90,
  UnsatisfiableWriteConcern: 100,
  WriteConflict: 112,
  NotAReplicaSet: 123,
  FailedToSatisfyReadPreference: 133,
  ReadConcernMajorityNotAvailableYet: 134,
  StaleEpoch: 150,
  PrimarySteppedDown: 189,
  FailPointEnabled: 192,
  NoSuchSession: 206,
  TransactionTooOld: 225,
  RetryChangeStream: 234,
  CursorKilled: 237,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  ExceededTimeLimit: 262,
  FailPointSetFailed: 266,
  ClientDisconnect: 279,
  ReauthenticationRequired: 391,
  SocketException: 9001,
  LegacyNotPrimary: 10058,
  NotWritablePrimary: 10107,
  InterruptedAtShutdown: 11600,
  InterruptedDueToReplStateChange: 11602,
  StaleConfig: 13388,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  // Start-up with --dbpath (storage_engine_lock_file_posix.cpp, FCV start-up check).
  NonExistentPath: 29,
  DBPathInUse: 98,
  MustDowngrade: 229,
  DataCorruptionDetected: 301,
  /** A replSet* command on a server not started with --replSet (replication_coordinator_impl.cpp). */
  NoReplicationEnabled: 76,
  // Replica-set mode: cluster time, retryable writes (replset-transactions-semantics.md §6).
  AlreadyInitialized: 23,
  NotYetInitialized: 94,
  TimeProofMismatch: 204,
  ClusterTimeFailsRateLimiter: 205,
  KeyNotFound: 211,
  IncompleteTransactionHistory: 217,
  SnapshotUnavailable: 246,
  SnapshotTooOld: 239,
  NotARetryableWriteCommand: 50768,
  // Transactions (transaction_participant.cpp).
  ConflictingOperationInProgress: 117,
  TransactionExceededLifetimeLimitSeconds: 290,
  // Change streams (change-streams-semantics.md §5).
  NoMatchingDocument: 47,
  InvalidResumeToken: 260,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

/**
 * Codes mongod raises from a uassert location rather than a named error: their codeName is
 * `Location<code>`. Named here so code says what they mean.
 */
export const LocationCodes = {
  /** Data files of another storage engine than the one asked for (storage_engine_metadata.cpp). */
  StorageEngineMismatch: 28662,
  IdlDuplicateField: 40413,
  /** "distinct too big, 16mb cap" (distinct.cpp). */
  DistinctTooBig: 17217,
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
  RoleAlreadyExists: 51002,
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
  // Collection validators (expression_parser.cpp parseGeo, doc_validation_error.cpp).
  /** "$geoNear, $near, and $nearSphere are not allowed in this context" (a validator). */
  GeoNearNotAllowed: 5626500,
  /** "Cannot generate validation error details: no annotation found for expression ...". */
  ValidationErrorNoAnnotation: 4994600,
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
  // Aggregation expressions (expression.cpp, evaluate_*.cpp, variables.cpp, value.cpp).
  // Parsing (expression.cpp, field_path.cpp, variables.cpp).
  /** "An object representing an expression must have exactly one field: {...}". */
  ExpressionNotSingleField: 15983,
  /** "'$' by itself is not a valid FieldPath". */
  FieldPathDollarAlone: 16872,
  /** "FieldPath field names may not contain '\0'." */
  FieldPathNullByte: 16411,
  /** "FieldPath field names may not contain '.'. Consider using $getField or $setField." */
  FieldPathDot: 16412,
  /** "field path must not contain embedded null characters". */
  FieldPathEmbeddedNull: 16419,
  /** User variable names being written ($let vars, $map/$filter 'as'). */
  VariableWriteEmpty: 16866,
  VariableWriteBadFirst: 16867,
  VariableWriteBadChar: 16868,
  /** User variable names being read ("$$name"). */
  VariableReadEmpty: 16869,
  VariableReadBadFirst: 16870,
  VariableReadBadChar: 16871,
  /** "Use of undefined variable '$$JS_SCOPE'." / "'$$IS_MR'." (Variables::getValue). */
  JsScopeUndefined: 4631100,
  IsMrUndefined: 4631101,
  // $let, $map, $filter, $reduce.
  LetNotObject: 16874,
  LetUnknownParameter: 16875,
  LetMissingVars: 16876,
  LetMissingIn: 16877,
  /** "invalid parameter: expected an object (vars)" (BSONElement::embeddedObjectUserCheck). */
  ExpectedObject: 10065,
  MapNotObject: 16878,
  MapUnknownParameter: 16879,
  MapMissingInput: 16880,
  MapMissingIn: 16882,
  MapInputNotArray: 16883,
  FilterNotObject: 28646,
  FilterUnknownParameter: 28647,
  FilterMissingInput: 28648,
  FilterMissingCond: 28650,
  FilterInputNotArray: 28651,
  FilterLimitNotIntegral: 327391,
  FilterLimitNotPositive: 327392,
  ReduceNotObject: 40075,
  ReduceUnknownArgument: 40076,
  ReduceMissingInput: 40077,
  ReduceMissingInitialValue: 40078,
  ReduceMissingIn: 40079,
  ReduceInputNotArray: 40080,
  // Conditionals.
  CondUnknownParameter: 17083,
  CondMissingIf: 17080,
  CondMissingThen: 17081,
  CondMissingElse: 17082,
  IfNullArity: 1257300,
  SwitchNotObject: 40060,
  SwitchBranchesNotArray: 40061,
  SwitchBranchNotObject: 40062,
  SwitchBranchUnknownArgument: 40063,
  SwitchBranchMissingCase: 40064,
  SwitchBranchMissingThen: 40065,
  SwitchNoMatch: 40066,
  SwitchUnknownArgument: 40067,
  SwitchNoBranches: 40068,
  // Arrays and sets (evaluate_array.cpp, evaluate_logical.cpp).
  ArrayElemAtNotArray: 28689,
  ArrayElemAtIndexNotNumeric: 28690,
  ArrayElemAtIndexNotIntegral: 28691,
  ObjectToArrayNotObject: 40390,
  ArrayToObjectNotArray: 40386,
  ArrayToObjectBadFormat: 40398,
  ArrayToObjectMixedArray: 40396,
  ArrayToObjectPairSize: 40397,
  ArrayToObjectKeyNotString: 40395,
  ArrayToObjectMixedObject: 40391,
  ArrayToObjectKeyCount: 40392,
  ArrayToObjectMissingKV: 40393,
  ArrayToObjectKNotString: 40394,
  ArrayToObjectKeyNullByte: 4940400,
  ArrayToObjectKNullByte: 4940401,
  ConcatArraysNotArray: 28664,
  IndexOfArrayNotArray: 40090,
  IndexNotIntegral: 40096,
  IndexNegative: 40097,
  InNotArray: 40081,
  ReverseArrayNotArray: 34435,
  SizeNotArray: 17124,
  SliceNotArray: 28724,
  SliceSecondNotNumeric: 28725,
  SliceSecondNotIntegral: 28726,
  SliceThirdNotNumeric: 28727,
  SliceThirdNotIntegral: 28728,
  SliceThirdNotPositive: 28729,
  RangeStartNotNumeric: 34443,
  RangeStartNotIntegral: 34444,
  RangeEndNotNumeric: 34445,
  RangeEndNotIntegral: 34446,
  RangeStepNotNumeric: 34447,
  RangeStepNotIntegral: 34448,
  RangeStepZero: 34449,
  ZipNotObject: 34460,
  ZipInputsNotArray: 34461,
  ZipDefaultsNotArray: 34462,
  ZipUseLongestNotBool: 34463,
  ZipUnknownArgument: 34464,
  ZipNoInputs: 34465,
  ZipDefaultsWithoutLongest: 34466,
  ZipDefaultsLength: 34467,
  ZipInputNotArray: 34468,
  SortArrayNotObject: 2942500,
  SortArrayUnknownArgument: 2942501,
  SortArrayMissingInput: 2942502,
  SortArrayMissingSortBy: 2942503,
  SortArrayInputNotArray: 2942504,
  SortArrayBadPattern: 2942505,
  SortArrayBadOrder: 2942506,
  SortArrayBadSortBy: 2942507,
  AllElementsTrueNotArray: 17040,
  AnyElementTrueNotArray: 17041,
  SetIsSubsetSecondNotArray: 17042,
  SetUnionNotArray: 17043,
  SetEqualsNotArray: 17044,
  SetEqualsArity: 17045,
  SetIsSubsetFirstNotArray: 17046,
  SetIntersectionNotArray: 17047,
  SetDifferenceFirstNotArray: 17048,
  SetDifferenceSecondNotArray: 17049,
  // Arithmetic (evaluate_math.cpp).
  LogArgNotNumeric: 28756,
  LogBaseNotNumeric: 28757,
  LogArgNotPositive: 28758,
  LogBaseInvalid: 28759,
  Log10NotPositive: 28761,
  PowBaseNotNumeric: 28762,
  PowExpNotNumeric: 28763,
  PowZeroNegative: 28764,
  LnNotPositive: 28766,
  SqrtNegative: 28714,
  // Strings (evaluate_string.cpp, evaluate_regex.cpp, expression.cpp).
  ConcatNotString: 16702,
  CoerceToStringBadType: 16007,
  SubstrBytesStartNotNumeric: 16034,
  SubstrBytesLengthNotNumeric: 16035,
  SubstrBytesStartNegative: 50752,
  SubstrBytesStartContinuation: 28656,
  SubstrBytesEndContinuation: 28657,
  SubstrCPStartNotNumeric: 34450,
  SubstrCPStartNotIntegral: 34451,
  SubstrCPLengthNotNumeric: 34452,
  SubstrCPLengthNotIntegral: 34453,
  SubstrCPLengthNegative: 34454,
  SubstrCPStartNegative: 34455,
  StrLenCPNotString: 34471,
  StrLenBytesNotString: 34473,
  IndexOfBytesNotString: 40091,
  IndexOfBytesTokenNotString: 40092,
  IndexOfCPNotString: 40093,
  IndexOfCPTokenNotString: 40094,
  SplitFirstNotString: 40085,
  SplitSecondNotString: 40086,
  SplitEmptySeparator: 40087,
  TrimUnknownArgument: 50694,
  TrimMissingInput: 50695,
  TrimNotObject: 50696,
  TrimInputNotString: 50699,
  TrimCharsNotString: 50700,
  ReplaceNotObject: 51751,
  ReplaceUnknownArgument: 51750,
  ReplaceMissingInput: 51749,
  ReplaceMissingFind: 51748,
  ReplaceMissingReplacement: 51747,
  ReplaceInputNotString: 51746,
  ReplaceFindNotString: 51745,
  ReplaceReplacementNotString: 51744,
  RegexNotObject: 51103,
  RegexUnknownArgument: 31024,
  RegexMissingInput: 31022,
  RegexMissingRegex: 31023,
  RegexInputNotString: 51104,
  RegexRegexBadType: 51105,
  RegexOptionsNotString: 51106,
  RegexOptionsTwice: 51107,
  RegexBadFlag: 51108,
  RegexPatternNullByte: 51109,
  RegexOptionsNullByte: 51110,
  RegexInvalid: 51111,
  BinarySizeBadType: 51276,
  BsonSizeNotObject: 31393,
  // Types and conversions (expression.cpp ExpressionConvert, evaluate_math.cpp ConversionTable).
  ConvertShortcutArity: 50723,
  // Objects.
  MergeObjectsNotObject: 40400,
  GetFieldUnknownArgument: 3041701,
  GetFieldMissingField: 3041702,
  GetFieldMissingInput: 3041703,
  GetFieldFieldPath: 5654600,
  GetFieldNotConstant: 5654601,
  GetFieldNotString: 5654602,
  SetFieldNotObject: 4161100,
  SetFieldUnknownArgument: 4161101,
  SetFieldMissingField: 4161102,
  SetFieldMissingValue: 4161103,
  SetFieldInputNotObject: 4161105,
  SetFieldNotConstant: 4161106,
  SetFieldNotString: 4161107,
  SetFieldFieldPath: 4161108,
  SetFieldMissingInput: 4161109,
  // Dates (expression.cpp date parsers, evaluate_date.cpp, value.cpp coerceToDate).
  DateUnknownOption: 40535,
  DateArrayArity: 40536,
  DateMissingDate: 40539,
  CoerceToDateBadType: 16006,
  TimezoneNotString: 40517,
  TimezoneUnknown: 40485,
  DateToStringNotObject: 18629,
  DateToStringUnknownArgument: 18534,
  DateToStringMissingDate: 18628,
  DateToStringFormatNotString: 18533,
  DateToStringBadFormatChar: 18536,
  DateToStringTrailingPercent: 18535,
  DateOutOfRangeForFormat: 18537,
  DateToPartsNotObject: 40524,
  DateToPartsUnknownArgument: 40520,
  DateToPartsMissingDate: 40522,
  DateToPartsIso8601NotBool: 40521,
  /** "<op> requires a string for the timezone argument, but was given a <type> (<value>)" (the extractors). */
  DateTimezoneNotString: 40533,
  DateFromPartsNotObject: 40519,
  DateFromPartsUnknownArgument: 40518,
  DateFromPartsMissingYear: 40516,
  DateFromPartsNaturalWithIso: 40489,
  DateFromPartsIsoWithNatural: 40525,
  DateFromPartsNotInteger: 40515,
  DateFromPartsOutOfRange: 31034,
  DateFromPartsYearRange: 40523,
  DateFromPartsIsoYearRange: 31095,
  DateFromStringNotObject: 40540,
  DateFromStringUnknownArgument: 40541,
  DateFromStringMissingDateString: 40542,
  DateFromStringFormatNotString: 40684,
  DateDiffNotObject: 5166301,
  DateDiffUnknownArgument: 5166302,
  DateDiffMissingStartDate: 5166303,
  DateDiffMissingEndDate: 5166304,
  DateDiffMissingUnit: 5166305,
  DateDiffNotDate: 5166307,
  DateArithmeticNotObject: 5166400,
  DateArithmeticUnknownArgument: 5166401,
  DateArithmeticMissingArgument: 5166402,
  DateArithmeticNotDate: 5166403,
  DateArithmeticUnitNotString: 5166404,
  DateArithmeticAmountNotInteger: 5166405,
  DateAddOverflow: 5166406,
  DateSubtractAmountInvalid: 6045000,
  DateTruncOverflowShift: 5439000,
  DateTruncOverflowBin: 5439001,
  DateTruncOverflowBinSize: 5439002,
  DateTruncOverflowDistance: 5439004,
  DateTruncBinSizeTooLarge: 5439006,
  DateTruncNotObject: 5439007,
  DateTruncUnknownArgument: 5439008,
  DateTruncMissingDate: 5439009,
  DateTruncMissingUnit: 5439010,
  DateTruncNotDate: 5439012,
  /** "<op> requires 'unit' to be a string, but got <type>" ($dateTrunc, $dateDiff). */
  DateUnitNotString: 5439013,
  /** "<op> parameter 'unit' value cannot be recognized as a time unit: <unit>". */
  DateUnitUnknown: 5439014,
  DateStartOfWeekNotString: 5439015,
  DateStartOfWeekUnknown: 5439016,
  DateTruncBinSizeNotInteger: 5439017,
  DateTruncBinSizeNotPositive: 5439018,
  // Timestamps, bitwise.
  TsSecondNotTimestamp: 5687301,
  TsIncrementNotTimestamp: 5687302,
  // $rand.
  RandHasArguments: 3040501,
  // Aggregation stages and accumulators (document_source_*.cpp, accumulator_*.cpp).
  // $project / $addFields / $set / $unset (document_source_project.cpp, document_source_add_fields.cpp,
  // add_fields_projection_executor.cpp, projection_parser.cpp, document_source_unset.cpp)
  ProjectNotObject: 15969,
  AddFieldsNotObject: 40272,
  ProjectEmpty: 51272,
  ProjectionPositionalInAggregation: 31324,
  AddFieldsConflictingPaths: 40176,
  AddFieldsExpressionFields: 40181,
  AddFieldsDottedSubField: 40183,
  UnsetNotStringOrArray: 31002,
  UnsetEmptyArray: 31119,
  UnsetNotStrings: 31120,
  // $replaceRoot / $replaceWith (document_source_replace_root.cpp)
  ReplaceRootNotObject: 40228,
  // $group (document_source_group_base.cpp, accumulation_statement.cpp, accumulator_*.cpp)
  GroupNotObject: 15947,
  GroupIdTwice: 15948,
  GroupUnknownOperator: 15952,
  GroupWithoutId: 15955,
  GroupIdInclusion: 17390,
  GroupFieldNotAccumulator: 40234,
  GroupFieldDotted: 40235,
  GroupFieldOperatorName: 40236,
  GroupAccumulatorUnary: 40237,
  GroupOneAccumulator: 40238,
  // $sort (document_source_sort.cpp, sort_pattern.cpp)
  SortNotObject: 15973,
  SortIllegalKey: 15974,
  SortBadDirection: 15975,
  SortEmpty: 15976,
  SortMetaOnly: 17312,
  // $skip / $limit (document_source_skip.cpp, document_source_limit.cpp)
  SkipInvalid: 5107200,
  LimitInvalid: 5107201,
  LimitNotPositive: 15958,
  // $count (document_source_count.cpp)
  CountNotString: 40156,
  CountEmpty: 40157,
  CountDollar: 40158,
  CountNullByte: 40159,
  CountDot: 40160,
  // $sortByCount (document_source_sort_by_count.cpp)
  SortByCountObjectNotExpression: 40147,
  SortByCountStringNotPath: 40148,
  SortByCountWrongType: 40149,
  // $bucket (document_source_bucket.cpp, ExpressionSwitch)
  BucketBoundariesNotConstant: 40191,
  BucketBoundariesTypes: 40193,
  BucketBoundariesNotSorted: 40194,
  BucketDefaultNotConstant: 40195,
  BucketDefaultInRange: 40199,
  // $facet (document_source_facet.cpp)
  FacetNestedStage: 40600,
  // $graphLookup (document_source_graph_lookup.cpp)
  GraphLookupNoId: 40271,
  // $documents (document_source_documents.cpp: the $unwind of the generated field)
  DocumentsNotArray: 5858203,
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
  // $meta (expression.cpp ExpressionMeta, dependencies.cpp DepsTracker::setNeedsMetadata, sort_pattern.cpp).
  /** "$meta only supports string arguments". */
  MetaNotString: 17307,
  /** "Unsupported argument to $meta: <name>". */
  MetaUnsupported: 17308,
  /** "query requires <type> metadata, but it is not available" (text score, $geoNear data). */
  MetadataNotAvailable: 40218,
  /** "Illegal $meta sort: <elem>". */
  SortMetaIllegal: 31138,
  /** "$meta sort by 'searchScore' metadata is not supported". */
  SortMetaSearchScore: 31218,
  /** "$meta sort by 'searchHighlights' metadata is not supported". */
  SortMetaSearchHighlights: 31219,
  // $redact (document_source_redact.cpp).
  /** "$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned <v>". */
  RedactBadResult: 17053,
  // $bucketAuto (document_source_bucket_auto.cpp, granularity_rounder*.cpp).
  BucketAutoGroupByNotExpression: 40239,
  BucketAutoNotObject: 40240,
  BucketAutoBucketsNotNumeric: 40241,
  BucketAutoBucketsNotInt32: 40242,
  BucketAutoBucketsNotPositive: 40243,
  BucketAutoOutputNotObject: 40244,
  BucketAutoUnknownOption: 40245,
  BucketAutoMissingArgument: 40246,
  /** "Unknown rounding granularity '<name>'". */
  GranularityUnknown: 40257,
  BucketAutoGranularityNotNumeric: 40258,
  BucketAutoGranularityNaN: 40259,
  BucketAutoGranularityNegative: 40260,
  BucketAutoGranularityNotString: 40261,
  /** "Can't refer to the group key in $bucketAuto" (an initializer that is not constant). */
  BucketAutoInitializerNotConstant: 4544714,
  PreferredNumbersNotNumeric: 40262,
  PreferredNumbersNaN: 40263,
  PreferredNumbersNegative: 40268,
  PowersOfTwoNotNumeric: 40265,
  PowersOfTwoNaN: 40266,
  PowersOfTwoNegative: 40267,
  // $densify (document_source_densify.cpp, date_time_support.cpp dateAdd).
  DensifyStepNotPositive: 5733401,
  DensifyDateStepNotWhole: 6586400,
  DensifyBoundsNotAscending: 5733402,
  DensifyBoundsNotTwo: 5733403,
  DensifyBoundsBadType: 5733404,
  DensifyBoundsDateMixed: 5733405,
  DensifyBoundsNumberMixed: 5733406,
  DensifyPartitionBoundsWithoutFields: 5733408,
  DensifyNumericBoundsWithUnit: 5733409,
  DensifyDateBoundsWithoutUnit: 5733410,
  DensifyBoundsTypesDiffer: 5876900,
  DensifyBoundsNotNumbersOrDates: 5946800,
  DensifyBoundsBadString: 5946802,
  DensifyValueBadType: 5733201,
  DensifyValueUnitMismatch: 6053600,
  DensifyGeneratorOnPartitionField: 5733306,
  DensifyGeneratorThroughArray: 5733307,
  DensifyGeneratorOverwrite: 5733308,
  DensifyTooManyDocuments: 5897900,
  DensifyCurrentAboveRange: 8423306,
  /** "invalid dateAdd 'amount' parameter value: <amount> <unit>". */
  DateAddAmountInvalid: 5976500,
  // Trigonometry (expression_trigonometric.h, ExpressionTwoNumericArgs).
  /** "cannot apply <op> to <v>, value must in [lo,hi]" (the bounded functions; "(lo,hi)" when exclusive). */
  TrigOutOfBounds: 50989,
  /** "<op> only supports numeric types, not <t>" (ExpressionTwoNumericArgs, first operand). */
  TwoNumericArgsFirstNotNumeric: 51044,
  /** The same for the second operand. */
  TwoNumericArgsSecondNotNumeric: 51045,
  // $firstN $lastN $maxN $minN (accumulator_multi.cpp).
  /** "specification must be an object; found <elem>" ($firstN / $lastN). */
  FirstLastNSpecNotObject: 5787801,
  /** "specification must be an object; found <elem>" ($minN / $maxN). */
  MinMaxNSpecNotObject: 5787900,
  /** "Unknown argument for 'n' operator: <name>". */
  AccumulatorNUnknownArgument: 5787901,
  /** "Value for 'n' must be of integral type, but found <v>" (not a number). */
  AccumulatorNNotNumeric: 5787902,
  /** The same text, for a number that is not a whole int64. */
  AccumulatorNNotIntegral: 5787903,
  /** "Missing value for 'n'". */
  AccumulatorNMissingN: 5787906,
  /** "Missing value for 'input'". */
  AccumulatorNMissingInput: 5787907,
  /** "'n' must be greater than 0, found <n>". */
  AccumulatorNNotPositive: 5787908,
  /** "Input must be an array" (the expression forms). */
  AccumulatorNInputNotArray: 5788200,
  // $percentile $median (accumulator_percentile.cpp).
  /** "specification must be an object; found <elem>" (the $percentile accumulator). */
  PercentileSpecNotObject: 7429703,
  /** The same, for the $percentile expression. */
  PercentileExprSpecNotObject: 7436200,
  /** The same, for the $median accumulator. */
  MedianSpecNotObject: 7436100,
  /** The same, for the $median expression. */
  MedianExprSpecNotObject: 7436201,
  /** "The $percentile 'p' field must be an array of constant values, but found value: <p>.". */
  PercentilePNotConstant: 7750300,
  /** "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: <p>" (not a non-empty array). */
  PercentilePNotArray: 7750301,
  /** The same text, for an element that is not a number. */
  PercentilePNotNumeric: 7750302,
  /** The same text, for a number outside [0, 1]. */
  PercentilePOutOfRange: 7750303,
  // $setWindowFields (document_source_set_window_fields.cpp, window_function/*.cpp, partition_iterator.cpp).
  /** "$setWindowFields 'output' specification contains two conflicting paths". */
  WindowOutputConflict: 6307900,
  /** "Lower bound must not exceed upper bound: [<lower>, <upper>]". */
  WindowBoundsBackwards: 5339900,
  WindowDocumentBoundsNeedSortBy: 5339901,
  WindowRangeBoundsNeedSortBy: 5339902,
  /** "Rank style window functions take no other arguments". */
  WindowRankExtraArguments: 5371601,
  WindowRankNeedsSortBy: 5371602,
  WindowRankNotEmptyObject: 5371603,
  /** "unit must be 'week' or smaller" ($derivative, $integral). */
  WindowUnitTooLarge: 5490710,
  WindowLinearFillNeedsSortBy: 605001,
  WindowLinearFillRepeated: 6050106,
  /** Range windows: the current document's sortBy value is not a date (with a unit) / is a date (without) / is not a number. */
  WindowRangeNeedsDate: 5429513,
  WindowRangeDateNeedsUnit: 5429413,
  WindowRangeNeedsNumber: 5429414,
  /** tassert: a range window over a sortBy that is not ascending has no sortBy expression. */
  WindowRangeDescending: 5429404,
  /** tassert "Failed to find the rightmost numeric document, while computing window bounds". */
  WindowRangeNoRightmost: 5429412,
  /** tassert "Endpoints should never decrease.". */
  WindowEndpointsDecrease: 5429407,
  WindowIntegralInput: 5423900,
  WindowIntegralNeedsDate: 5423901,
  WindowIntegralNeedsNumber: 5423902,
  WindowDerivativeNeedsDate: 5624900,
  WindowDerivativeDateNeedsUnit: 5624901,
  WindowDerivativeNeedsNumber: 5624902,
  WindowDerivativeNullInput: 5624903,
  /** "specification must be an object; found <elem>" ($top / $bottom / $topN / $bottomN, accumulatorNParseArgs). */
  TopBottomSpecNotObject: 5788001,
  // $fill (document_source_fill.cpp).
  FillOutputNotObject: 6050200,
  FillMethodAndValue: 6050201,
  FillBadMethod: 6050202,
  FillEmptyOutput: 6050203,
  FillBothPartitions: 6050204,
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
