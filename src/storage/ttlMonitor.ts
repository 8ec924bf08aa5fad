import type { Clock, TimerHandle } from '../clock.js';
import type { Catalog } from './catalog.js';

/** mongod's ttlMonitorSleepSecs default: the TTL pass runs once a minute. */
export const TTL_MONITOR_INTERVAL_MS = 60_000;

/**
 * mongod's TTL monitor: every pass, documents whose indexed date (the earliest, for an array)
 * is older than expireAfterSeconds are deleted. Only single-field indexes expire documents, and
 * a non-date value never expires, as in mongod.
 */
export class TtlMonitor {
  private timer: TimerHandle | undefined;
  deletedTotal = 0;
  passes = 0;

  constructor(
    private readonly catalog: Catalog,
    private readonly clock: Clock,
    private readonly intervalMs = TTL_MONITOR_INTERVAL_MS,
  ) {
    this.schedule();
  }

  /** One pass over every TTL index; returns how many documents it deleted. */
  pass(): number {
    const now = this.clock.now();
    let deleted = 0;
    for (const db of this.catalog.databaseNames()) {
      for (const collection of this.catalog.collections(db)) {
        for (const index of collection.indexes) {
          const fields = Object.keys(index.key);
          if (index.expireAfterSeconds === undefined || fields.length !== 1) continue;
          const deadline = now - index.expireAfterSeconds * 1000;
          const expired = [...collection.documents()].filter((doc) => {
            const value = doc[fields[0]!];
            const dates = (Array.isArray(value) ? value : [value]).filter((v): v is Date => v instanceof Date);
            return dates.length > 0 && Math.min(...dates.map((d) => d.getTime())) <= deadline;
          });
          for (const doc of expired) if (collection.remove(doc)) deleted += 1;
        }
      }
    }
    this.passes += 1;
    this.deletedTotal += deleted;
    return deleted;
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(this.intervalMs, () => {
      this.pass();
      this.schedule();
    });
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
  }
}
