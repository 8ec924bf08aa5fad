import type { Document } from 'bson';
import type { ScramServerConversation } from '../auth/scram.js';
import type { CompressorName } from '../wire/compression.js';

/**
 * The user a connection authenticated as (mongod 7.0 allows one per connection). Its roles are
 * read from the user store on every check, so grants and drops apply to open connections too.
 */
export interface AuthenticatedUser {
  readonly user: string;
  readonly db: string;
}

/** What the server knows about one client connection; the commands read and update it. */
export class ConnectionState {
  /** Client metadata from the first hello (mongod refuses it on later ones). */
  clientMetadata: Document | undefined;
  /** Set once any hello/isMaster has been answered. */
  helloCount = 0;
  /** Compressors agreed in the handshake, in the client's order. */
  compressors: CompressorName[] = [];
  /** Set by a successful SASL conversation, cleared by logout. */
  user: AuthenticatedUser | undefined;
  /** The SASL conversation in progress (saslStart → saslContinue), if any. */
  sasl: { conversation: ScramServerConversation; db: string; speculative: boolean } | undefined;
  /** Streaming exhaust replies (an awaitable hello with exhaustAllowed). */
  streaming = false;
  readonly connectedAt: number;
  private readonly closeController = new AbortController();

  constructor(
    readonly id: number,
    /** `host:port` of the client. */
    readonly remote: string,
    /** `host:port` of our end. */
    readonly local: string,
    now: number,
  ) {
    this.connectedAt = now;
  }

  /** Aborted when the connection closes: pending awaitable hellos and operations stop waiting. */
  get closed(): AbortSignal {
    return this.closeController.signal;
  }

  markClosed(): void {
    this.closeController.abort();
  }
}
