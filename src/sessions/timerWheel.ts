/**
 * A hashed timer wheel: entries hang in intrusive doubly linked lists, one list per slot, the
 * slot chosen by `floor(due / tickMs) mod slots`. Insert, move and remove are O(1); advancing
 * visits only the slots of the ticks that passed, and in each slot only entries hashed there.
 * With `slots * tickMs` longer than the longest delay, every entry visited is due.
 */
export interface WheelEntry<T> {
  readonly value: T;
  /** Absolute due time (ms). */
  due: number;
  /** @internal */ prev: WheelEntry<T> | undefined;
  /** @internal */ next: WheelEntry<T> | undefined;
  /** @internal slot index, -1 when not in the wheel. */ slot: number;
}

export class TimerWheel<T> {
  private readonly heads: Array<WheelEntry<T> | undefined>;
  private readonly mask: number;
  /** The last tick fully processed. */
  private tick: number;
  private count = 0;

  /**
   * @param tickMs granularity: an entry is reported at most one tick after it is due
   * @param horizonMs the longest delay expected; sizes the wheel so each slot holds one round
   * @param now the current time
   */
  constructor(
    readonly tickMs: number,
    horizonMs: number,
    now: number,
  ) {
    const wanted = Math.min(1 << 20, Math.max(64, Math.ceil(horizonMs / tickMs) + 2));
    const size = 2 ** Math.ceil(Math.log2(wanted));
    this.heads = new Array<WheelEntry<T> | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.tick = Math.floor(now / tickMs);
  }

  get size(): number {
    return this.count;
  }

  insert(value: T, due: number): WheelEntry<T> {
    const entry: WheelEntry<T> = { value, due, prev: undefined, next: undefined, slot: -1 };
    this.link(entry);
    return entry;
  }

  /** Reschedules an entry (a session used again); an entry no longer in the wheel goes back in. */
  move(entry: WheelEntry<T>, due: number): void {
    entry.due = due;
    if (entry.slot === this.slotOf(due)) return;
    if (entry.slot >= 0) this.unlink(entry);
    this.link(entry);
  }

  remove(entry: WheelEntry<T>): void {
    if (entry.slot >= 0) this.unlink(entry);
  }

  /**
   * Removes and returns entries due at or before `now`, at most `limit` of them; call again while
   * it returns `limit` entries (the rest stay in the wheel, still due).
   */
  advance(now: number, limit = Number.POSITIVE_INFINITY): WheelEntry<T>[] {
    const expired: WheelEntry<T>[] = [];
    const target = Math.floor(now / this.tickMs);
    // Never walk more than one rotation: after that every slot has been seen once.
    const start = Math.max(this.tick, target - this.mask);
    for (let t = start; t <= target; t++) {
      let entry = this.heads[t & this.mask];
      while (entry !== undefined) {
        const next = entry.next;
        if (entry.due <= now) {
          if (expired.length >= limit) {
            this.tick = t;
            return expired;
          }
          this.unlink(entry);
          expired.push(entry);
        }
        entry = next;
      }
      // The current tick stays open: entries due later within it are found next time.
      this.tick = t;
    }
    return expired;
  }

  private slotOf(due: number): number {
    // Anything already due goes in the slot processed next, so it is never skipped.
    return Math.max(Math.floor(due / this.tickMs), this.tick) & this.mask;
  }

  private link(entry: WheelEntry<T>): void {
    const slot = this.slotOf(entry.due);
    const head = this.heads[slot];
    entry.slot = slot;
    entry.prev = undefined;
    entry.next = head;
    if (head !== undefined) head.prev = entry;
    this.heads[slot] = entry;
    this.count += 1;
  }

  private unlink(entry: WheelEntry<T>): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    else this.heads[entry.slot] = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.slot = -1;
    this.count -= 1;
  }
}
