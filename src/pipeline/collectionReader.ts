import type { Document } from 'bson';
import type { CommandContext } from '../commands/types.js';
import { collectionDocuments } from '../storage/catalog.js';

/**
 * How a pipeline's $lookup, $graphLookup and $unionWith read the collections of its database
 * (mingo's collection resolver). A missing foreign collection reads as an empty one, as in mongod.
 */
export function collectionReader(ctx: Pick<CommandContext, 'server' | 'db'>): (name: string) => Iterable<Document> {
  return (name) => collectionDocuments(ctx.server, ctx.db, name) ?? [];
}
