import type { Document } from 'bson';
import { ErrorCodes, MongoError } from '../../errors.js';
import type { CommandContext, CommandSpec } from '../command.js';
import type { SessionOperation } from '../operation.js';

/**
 * Stage 5, run: the family's handler. An operation whose session was killed while it ran answers
 * Interrupted, whatever the handler returned (kill_sessions_local.cpp interrupts it).
 */
export async function runCommand(spec: CommandSpec, ctx: CommandContext, operation: SessionOperation | undefined): Promise<Document> {
  const result = await spec.run(ctx);
  if (operation?.killed) throw new MongoError(ErrorCodes.Interrupted, 'operation was interrupted');
  return result;
}
