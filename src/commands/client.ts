import type { Document } from 'bson';
import { Principal } from '../auth/principal.js';
import type { CompressorName } from '../wire/compression.js';
import type { RunningOperation } from './currentOp.js';

/**
 * What the commands know of one client connection: who it is (its auth Principal), what it told
 * the handshake, and when it closes. The net layer makes one per connection; commands never see
 * the socket.
 */
export class Client {
  readonly principal = new Principal();
  /** Client metadata from the first hello (mongod refuses it on later ones). */
  metadata: Document | undefined;
  /** Set once any hello/isMaster has been answered. */
  helloCount = 0;
  /** Compressors agreed in the handshake, in the client's order. */
  compressors: CompressorName[] = [];
  /** Streaming exhaust replies (an awaitable hello with exhaustAllowed). */
  streaming = false;
  /** The command this connection is running, for currentOp (set by dispatch). */
  current: RunningOperation | undefined;
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
