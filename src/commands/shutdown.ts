import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import { onCluster } from './requirements.js';
import { defineCommand, type CommandContext, type CommandSpec } from './command.js';

const LOCALHOST = /^(127\.|::1$|::ffff:127\.)/;

/**
 * shutdown (src/mongo/db/commands/shutdown.cpp): without auth only from localhost. mongod never
 * answers a successful shutdown: it closes the connection while shutting down, so this handler
 * starts the shutdown and waits for the connection to go.
 */
async function shutdown(ctx: CommandContext<'process'>): Promise<Document> {
  const host = ctx.client.remote.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!LOCALHOST.test(host)) {
    throw new MongoError(ErrorCodes.Unauthorized, 'shutdown must run from localhost when running db without auth');
  }
  ctx.services.process.requestShutdown();
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  throw new MongoError(ErrorCodes.ShutdownInProgress, 'Closing the connection running the shutdown command');
}

/** Shutdown. */
export const shutdownCommands: readonly CommandSpec[] = [
  defineCommand({ name: 'shutdown', run: shutdown, adminOnly: true, privileges: onCluster('shutdown'), help: 'shutdown the database.  must be ran against admin db and either (1) ran from localhost or (2) authenticated. If this is a primary in a replica set and there is no member within 10 seconds of its optime, it will not shutdown without force : true.  You can also specify timeoutSecs : N to wait N seconds for other members to catch up.' }),
];
