import { Int32, Long, type Document } from 'bson';
import { canonicalKey } from '../bson/bsonOrder.js';
import { collectionArgument, trueValue } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { IndexKeys } from '../storage/indexKeys.js';
import { onCollection } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/**
 * validate (src/mongo/db/commands/validate.cpp, catalog/validate_results.cpp): walks the
 * collection's documents, generates every index's keys from them and reports mongod 7.0's
 * result document. An in-memory store maintains its indexes from the documents on every write,
 * so the walk finds them consistent: it reports the counts it computed (keysPerIndex: each
 * document's distinct keys, multikey and sparse/partial indexes included).
 */
function validate(ctx: CommandContext<'namespaces'>): Document {
  const name = collectionArgument(ctx);
  if (trueValue(ctx.body.repair)) throw new MongoError(ErrorCodes.CommandNotSupported, 'pocketmongo does not support validate with repair: true (its in-memory storage has nothing to repair)');
  if (ctx.services.namespaces.views.lookup(ctx.db, name) !== undefined) throw new MongoError(ErrorCodes.CommandNotSupportedOnView, 'Cannot validate a view');
  const collection = ctx.services.namespaces.collection(ctx.db, name);
  if (collection === undefined) throw new MongoError(ErrorCodes.NamespaceNotFound, `Collection '${ctx.db}.${name}' does not exist to validate.`);
  const generators = collection.indexes.map((spec) => ({ name: spec.name, keys: new IndexKeys(spec) }));
  const counts = new Map(generators.map((g) => [g.name, 0]));
  let records = 0;
  for (const doc of collection.documents()) {
    records += 1;
    for (const { name: index, keys } of generators) {
      const distinct = new Set(keys.of(doc).map((k) => canonicalKey(k)));
      counts.set(index, counts.get(index)! + distinct.size);
    }
  }
  const keysPerIndex: Document = {};
  const indexDetails: Document = {};
  for (const [index, n] of counts) {
    keysPerIndex[index] = Long.fromNumber(n);
    indexDetails[index] = { valid: true };
  }
  return {
    ns: `${ctx.db}.${name}`,
    uuid: collection.uuid,
    nInvalidDocuments: Long.fromNumber(0),
    nNonCompliantDocuments: Long.fromNumber(0),
    nrecords: Long.fromNumber(records),
    nIndexes: new Int32(counts.size),
    keysPerIndex,
    indexDetails,
    valid: true,
    repaired: false,
    warnings: [],
    errors: [],
    extraIndexEntries: [],
    missingIndexEntries: [],
    corruptRecords: [],
  };
}

export const validateCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'validate', run: validate, privileges: onCollection('validate'), help: 'Validate contents of a namespace by scanning its data structures for correctness.\nThis is a slow operation.\n\tAdd {full: true} option to do a more thorough check.\n\tAdd {background: true} to validate in the background.\n\tAdd {repair: true} to run repair mode.\nCannot specify both {full: true, background: true}.' }),
];
