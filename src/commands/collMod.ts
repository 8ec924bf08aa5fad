import { type Document } from 'bson';
import { collectionArgument, isPlainObject, trueValue } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { Resource } from '../auth/privileges.js';
import { checkValidatorNamespace, parseValidator } from '../storage/validation.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { validationArguments } from './documentValidation.js';

// collMod (coll_mod.idl, coll_mod.cpp parseCollModRequest): changes a collection's validator,
// validationLevel and validationAction. The other modifications are those of features
// pocketmongo's collections do not have (views, time-series, clustered and capped collections,
// pre-images) or does not do yet (index changes): mongod's own refusal where a plain collection
// gets one, else 115.

/** The fields of CollModRequest (7.0), besides the generic arguments. */
const COLL_MOD_FIELDS: readonly string[] = [
  'index',
  'validator',
  'validationLevel',
  'validationAction',
  'viewOn',
  'pipeline',
  'recordPreImages',
  'changeStreamPreAndPostImages',
  'expireAfterSeconds',
  'timeseries',
  'dryRun',
  'collectionUUID',
  'cappedSize',
  'cappedMax',
];

/** Modifications pocketmongo does not make: the feature each belongs to. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  collectionUUID: 'collMod with collectionUUID',
  cappedSize: 'resizing capped collections with collMod',
  cappedMax: 'resizing capped collections with collMod',
  index: 'index changes with collMod',
  recordPreImages: 'recordPreImages',
  changeStreamPreAndPostImages: 'change stream pre- and post-images',
};

function unsupported(field: string): MongoError {
  return new MongoError(ErrorCodes.CommandNotSupported, `pocketmongo does not support ${UNSUPPORTED[field]} yet (collMod option '${field}')`);
}

function invalidOptions(message: string): MongoError {
  return new MongoError(ErrorCodes.InvalidOptions, message);
}

/** The checks parseCollModRequest makes on a plain collection, in its order. */
function checkOtherModifications(body: Document): void {
  for (const field of ['collectionUUID', 'cappedSize', 'cappedMax', 'index']) {
    if (body[field] !== undefined) throw unsupported(field);
  }
  for (const field of ['pipeline', 'viewOn']) {
    if (body[field] !== undefined) throw invalidOptions(`option only supported on a view: ${field}`);
  }
  for (const field of ['recordPreImages', 'changeStreamPreAndPostImages']) {
    if (body[field] !== undefined) throw unsupported(field);
  }
  if (body.expireAfterSeconds !== undefined) {
    throw invalidOptions("'expireAfterSeconds' option is only supported on collections clustered by _id");
  }
  if (body.timeseries !== undefined) throw invalidOptions('option only supported on a time-series collection: timeseries');
}

/** The IDL types of the fields collMod does not act on, checked before anything runs. */
function checkFieldTypes(body: Document): void {
  for (const field of ['index', 'timeseries', 'changeStreamPreAndPostImages']) {
    if (body[field] !== undefined && !isPlainObject(body[field])) throw wrongType(`collMod.${field}`, body[field], 'object');
  }
  if (body.viewOn !== undefined && typeof body.viewOn !== 'string') throw wrongType('collMod.viewOn', body.viewOn, 'string');
  if (body.pipeline !== undefined && !Array.isArray(body.pipeline)) throw wrongType('collMod.pipeline', body.pipeline, 'array');
}

/**
 * collMod: the validation options change together (a validator is parsed first, with mongod's
 * "Parsing of collection validator failed" context); the reply is just ok.
 */
function collMod(ctx: CommandContext<'catalog'>): Document {
  const name = collectionArgument(ctx);
  const requested = validationArguments(ctx.body, 'collMod');
  checkFieldTypes(ctx.body);
  const collection = ctx.services.catalog.get(ctx.db, name);
  if (collection === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, 'ns does not exist');
  if (trueValue(ctx.body.dryRun)) {
    // dry run mode is for converting an index to unique, which pocketmongo does not do.
    if (ctx.body.index === undefined) throw invalidOptions('dry run mode requires an valid index modification.');
    if (!trueValue((ctx.body.index as Document).unique)) throw invalidOptions('dry run mode requires an index modification with unique: true.');
  }
  const next = { ...collection.validation, ...requested };
  checkOtherModifications(ctx.body);
  if (requested.validator !== undefined) {
    checkValidatorNamespace(next, ctx.db, name, collection.uuid);
    try {
      parseValidator(next);
    } catch (err) {
      if (!(err instanceof MongoError)) throw err;
      throw new MongoError(err.code, `Parsing of collection validator failed :: caused by :: ${err.message}`);
    }
  }
  collection.validation = next;
  return {};
}

/** collMod. */
export const collModCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'collMod',
    run: collMod,
    apiVersion1: true,
    supportsWriteConcern: true,
    // coll_mod.idl is strict: another field is 40415.
    strict: true,
    fields: COLL_MOD_FIELDS,
    privileges: (ctx) => {
      const c = ctx.body[ctx.name];
      return typeof c === 'string' ? [{ resource: Resource.namespace(ctx.db, c), actions: ['collMod', 'find'] }] : [];
    },
    help:
      "Sets collection options.\nExample: { collMod: 'foo', viewOn: 'bar'} Example: { collMod: 'foo', index: {keyPattern: {a: 1}, expireAfterSeconds: 600} Example: { collMod: 'foo', index: {name: 'bar', expireAfterSeconds: 600} }\n",
  }),
];
