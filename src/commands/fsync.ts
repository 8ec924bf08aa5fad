import { Int32, type Document } from 'bson';
import { trueValue } from '../bson/args.js';
import { ErrorCodes, MongoError } from '../errors.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

/**
 * fsync (commands/fsync.cpp): everything written so far is committed and synced to disk (with
 * --dbpath; in memory there is nothing to flush), then `{numFiles: 1}`. Locking the server
 * against writes (`lock: true`) is refused as mongod refuses it on an engine without fsyncLock
 * (CommandNotSupported, which jstests/noPassthroughWithMongod/fsync2.js accepts).
 */
async function fsync(ctx: CommandContext<'durable'>): Promise<Document> {
  if (trueValue(ctx.body.lock)) {
    throw new MongoError(ErrorCodes.CommandNotSupported, 'fsync with lock: true is not supported: this server cannot hold writes back');
  }
  await ctx.services.durable?.sync();
  return { numFiles: new Int32(1) };
}

/** fsync. */
export const fsyncCommands: readonly CommandSpec[] = [
  defineCommand({
    name: 'fsync',
    run: fsync,
    adminOnly: true,
    privileges: onCluster('fsync'),
    help: 'invoke fsync on all data files to flush them to disk',
  }),
];
