import type { Document } from 'bson';
import type { SessionOwner } from '../../sessions/owner.js';
import type { SessionRecord } from '../../sessions/sessionRegistry.js';
import type { WireRequest } from '../../wire/request.js';
import type { Client } from '../client.js';
import type { CommandContext } from '../command.js';
import type { SessionOperation } from '../operation.js';
import type { Services } from '../services.js';

/** The CommandContext of one command (a class: its shape stays the same for every command). */
export class Invocation implements CommandContext {
  readonly body: Document;
  readonly db: string;
  readonly name: string;
  exhaust?: { next: Document };
  private resolvedOwner: SessionOwner | undefined;

  constructor(
    readonly services: Services,
    readonly client: Client,
    readonly request: WireRequest,
    readonly session: SessionRecord | undefined,
    private readonly connectionSignal: AbortSignal,
    private readonly operation: SessionOperation | undefined,
  ) {
    this.body = request.body;
    this.db = request.db!;
    this.name = request.commandName;
  }

  get owner(): SessionOwner {
    return (this.resolvedOwner ??= this.services.owners.resolve(this.client.principal));
  }

  get signal(): AbortSignal {
    return this.operation === undefined ? this.connectionSignal : this.operation.signal;
  }
}
