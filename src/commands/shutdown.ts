import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../errors.js';
import type { CommandContext } from './types.js';

const LOCALHOST = /^(127\.|::1$|::ffff:127\.)/;

/**
 * shutdown (src/mongo/db/commands/shutdown.cpp): without auth only from localhost. mongod never
 * answers a successful shutdown: it closes the connection while shutting down, so this handler
 * starts the shutdown and waits for the connection to go.
 */
export async function shutdown(ctx: CommandContext): Promise<Document> {
  const host = ctx.connection.remote.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!LOCALHOST.test(host)) {
    throw new MongoError(ErrorCodes.Unauthorized, 'shutdown must run from localhost when running db without auth');
  }
  ctx.server.requestShutdown();
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  throw new MongoError(ErrorCodes.ShutdownInProgress, 'Closing the connection running the shutdown command');
}
