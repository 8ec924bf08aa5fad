import { ObjectId } from 'bson';

/**
 * The topology as hello reports it. A standalone's only change is shutting down; awaitable hellos
 * wait on this until their maxAwaitTimeMS ends or the topology changes.
 */
export class Topology {
  readonly processId = new ObjectId();
  counter = 0;
  private readonly waiters = new Set<() => void>();

  /** How many awaitable hellos are waiting (serverStatus connections.awaitingTopologyChanges). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Calls `fn` once on the next change; returns a function that cancels the wait. */
  onChange(fn: () => void): () => void {
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  change(): void {
    this.counter += 1;
    const waiting = [...this.waiters];
    this.waiters.clear();
    for (const fn of waiting) fn();
  }
}
