import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../../errors.js';
import type { CommandContext, CommandSpec } from '../command.js';
import type { SessionOperation } from '../operation.js';

/** An operation whose session was killed while it ran answers Interrupted, whatever the handler returned. */
function checkNotKilled(operation: SessionOperation | undefined, result: Document): Document {
  if (operation?.killed) throw new MongoError(ErrorCodes.Interrupted, 'operation was interrupted');
  return result;
}

/**
 * Stage 5, run: the family's handler (kill_sessions_local.cpp interrupts an operation whose session
 * is killed). Not itself async: a handler that answers at once costs no extra promise.
 */
export function runCommand(spec: CommandSpec, ctx: CommandContext, operation: SessionOperation | undefined): Document | Promise<Document> {
  const result = spec.run(ctx);
  if (result instanceof Promise) return result.then((doc) => checkNotKilled(operation, doc));
  return checkNotKilled(operation, result);
}
