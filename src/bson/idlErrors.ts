import { ErrorCodes, LocationCodes, MongoError } from '../errors.js';
import { typeName } from './typeName.js';

/**
 * The errors mongod's IDL parsers raise (src/mongo/idl/idl_parser.cpp), with their exact texts.
 * `path` is the IDL context plus the field path, e.g. `OperationSessionInfo.lsid.id`.
 */
export function wrongType(path: string, value: unknown, expected: string): MongoError {
  return new MongoError(
    ErrorCodes.TypeMismatch,
    `BSON field '${path}' is the wrong type '${typeName(value)}', expected type '${expected}'`,
  );
}

export function missingField(path: string): MongoError {
  return new MongoError(LocationCodes.IdlMissingField, `BSON field '${path}' is missing but a required field`);
}

export function unknownField(path: string): MongoError {
  return new MongoError(LocationCodes.IdlUnknownField, `BSON field '${path}' is an unknown field.`);
}

/** A `validator: {gte: 0}` failure; mongod names the field without its context here. */
export function notAtLeast(field: string, min: number, actual: number): MongoError {
  return new MongoError(LocationCodes.IdlValidatorFailed, `BSON field '${field}' value must be >= ${min}, actual value '${actual}'`);
}
