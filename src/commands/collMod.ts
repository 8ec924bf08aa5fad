import { type Document } from 'bson';
import { collectionArgument, isPlainObject, trueValue } from '../bson/args.js';
import { wrongType } from '../bson/idlErrors.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { Resource } from '../auth/privileges.js';
import type { Requirement } from '../auth/authorize.js';
import { checkValidatorNamespace, parseValidator } from '../storage/validation.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';
import { validationArguments } from './documentValidation.js';
import { viewDefinitionPrivileges } from './aggregate.js';
import { modifyView, viewArguments } from './views.js';
import type { ViewDefinition } from '../storage/viewCatalog.js';

// collMod (coll_mod.idl, coll_mod.cpp parseCollModRequest): changes a collection's validator,
// validationLevel and validationAction, or a view's viewOn and pipeline. The other modifications
// are those of features pocketmongo's collections do not have (time-series, clustered and capped
// collections, pre-images) or does not do yet (index changes): mongod's own refusal where a plain
// collection or a view gets one, else 115.

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

/** Dry run mode is for converting an index to unique, which pocketmongo does not do. */
function checkDryRun(body: Document): void {
  if (!trueValue(body.dryRun)) return;
  if (body.index === undefined) throw invalidOptions('dry run mode requires an valid index modification.');
  if (!trueValue((body.index as Document).unique)) throw invalidOptions('dry run mode requires an index modification with unique: true.');
}

/**
 * collMod of a view: viewOn and pipeline only (views.ts checks the new definition); the other
 * options, in parseCollModRequest's order, are "option not supported on a view" (72).
 */
function collModView(ctx: CommandContext<'namespaces'>, view: ViewDefinition): Document {
  const body = ctx.body;
  checkDryRun(body);
  for (const field of ['collectionUUID', 'cappedSize', 'cappedMax']) {
    if (body[field] !== undefined) throw unsupported(field);
  }
  for (const field of ['index', 'validator', 'validationLevel', 'validationAction', 'recordPreImages', 'changeStreamPreAndPostImages', 'expireAfterSeconds']) {
    if (body[field] !== undefined) throw invalidOptions(`option not supported on a view: ${field}`);
  }
  if (body.timeseries !== undefined) throw invalidOptions('option only supported on a time-series collection: timeseries');
  modifyView(ctx, view, viewArguments(body, 'collMod'));
  return {};
}

/**
 * collMod: the validation options change together (a validator is parsed first, with mongod's
 * "Parsing of collection validator failed" context); the reply is just ok.
 */
function collMod(ctx: CommandContext<'auth' | 'catalog' | 'namespaces'>): Document {
  const name = collectionArgument(ctx);
  const requested = validationArguments(ctx.body, 'collMod');
  checkFieldTypes(ctx.body);
  const view = ctx.services.namespaces.views.lookup(ctx.db, name);
  if (view !== undefined) return collModView(ctx, view);
  const collection = ctx.services.catalog.get(ctx.db, name);
  if (collection === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, 'ns does not exist');
  checkDryRun(ctx.body);
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
      if (typeof c !== 'string') return [];
      const own: Requirement[] = [{ resource: Resource.namespace(ctx.db, c), actions: ['collMod', 'find'] }];
      // checkAuthForCollMod: past the collMod action, a view is redefined whole under auth, and
      // needs what reading its new definition reads.
      if (!ctx.services.auth.mayDo(ctx.client.principal, Resource.namespace(ctx.db, c), 'collMod')) return own;
      const { viewOn, pipeline } = ctx.body;
      if ((viewOn === undefined) !== (pipeline === undefined)) {
        throw invalidOptions("Must specify both 'viewOn' and 'pipeline' when modifying a view and auth is enabled");
      }
      if (typeof viewOn !== 'string' || !Array.isArray(pipeline)) return own;
      return [...own, ...viewDefinitionPrivileges(ctx, c, viewOn, pipeline)];
    },
    help:
      "Sets collection options.\nExample: { collMod: 'foo', viewOn: 'bar'} Example: { collMod: 'foo', index: {keyPattern: {a: 1}, expireAfterSeconds: 600} Example: { collMod: 'foo', index: {name: 'bar', expireAfterSeconds: 600} }\n",
  }),
];
