import type { SessionResource } from '../sessions/sessionRegistry.js';

/**
 * A running command in a session, so killing the session can interrupt it. Creating an
 * AbortController per command costs more than the whole of a ping, so the signal is made only
 * when a handler asks for it (the few that wait); `killed` is the cheap check everyone else uses.
 */
export class SessionOperation implements SessionResource {
  readonly kind = 'operation';
  killed = false;
  private controller: AbortController | undefined;
  /** Made with the signal, as the signal is: most commands in a session never need either. */
  private onConnectionClosed: (() => void) | undefined;

  constructor(
    /** The connection's closed signal: its closing interrupts the operation too. */
    private readonly connectionClosed: AbortSignal,
  ) {}

  /** Aborted when the session is killed or the connection closes. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.killed || this.connectionClosed.aborted) this.controller.abort();
      else {
        this.onConnectionClosed = () => this.interrupt();
        this.connectionClosed.addEventListener('abort', this.onConnectionClosed, { once: true });
      }
    }
    return this.controller.signal;
  }

  /** Its session was killed (killSessions and friends), expired or ended. */
  release(): void {
    this.killed = true;
    this.interrupt();
  }

  private interrupt(): void {
    this.controller?.abort();
  }

  /** The operation finished: stop listening for the connection's end. */
  done(): void {
    if (this.onConnectionClosed !== undefined) this.connectionClosed.removeEventListener('abort', this.onConnectionClosed);
  }
}
