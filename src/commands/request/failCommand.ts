import type { Document } from 'bson';
import { withFields } from '../../bson/fields.js';
import type { WireRequest } from '../../wire/request.js';
import type { Client } from '../client.js';
import type { CommandSpec } from '../command.js';
import type { CommandIdentity } from '../failPoints.js';
import type { Services } from '../services.js';

/**
 * The fail points' stage (commands.cpp evaluateFailCommandFailPoint, before the command runs;
 * service_entry_point_common.cpp for writeConcernError, after it): only reached when a fail point
 * is on, so a server without them does no work per command.
 */
function identity(spec: CommandSpec, client: Client, request: WireRequest): CommandIdentity {
  const target = request.body[request.commandName];
  const appName = (client.metadata?.application as Document | undefined)?.name;
  return {
    names: [spec.name, ...spec.aliases],
    appName: typeof appName === 'string' ? appName : undefined,
    namespace: `${request.db}.${typeof target === 'string' && target !== '' ? target : '$cmd'}`,
  };
}

/**
 * Before the command runs: maxTimeAlwaysTimeOut's error, failCommand's wait (on the server clock),
 * its error (thrown), or `close` when the connection must end without a reply.
 */
export async function failPointsBefore(services: Pick<Services, 'failPoints' | 'clock'>, spec: CommandSpec, client: Client, request: WireRequest): Promise<'close' | undefined> {
  const timeout = services.failPoints.maxTimeError(request.body.maxTimeMS);
  if (timeout !== undefined) throw timeout;
  const failure = services.failPoints.beforeCommand(identity(spec, client, request));
  if (failure === undefined) return undefined;
  if (failure.blockMillis !== undefined && failure.blockMillis > 0) {
    await new Promise<void>((resolve) => services.clock.setTimer(failure.blockMillis!, resolve));
  }
  if (failure.closeConnection === true) return 'close';
  if (failure.error !== undefined) throw failure.error;
  return undefined;
}

/** After a command that takes a write concern: failCommand's writeConcernError (and labels) added to its reply. */
export function failPointsAfter(services: Pick<Services, 'failPoints'>, spec: CommandSpec, client: Client, request: WireRequest, reply: Document): Document {
  if (!spec.supportsWriteConcern) return reply;
  const fields = services.failPoints.afterWrite(identity(spec, client, request));
  return fields === undefined ? reply : withFields(reply, fields);
}
