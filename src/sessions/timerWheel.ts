/**
 * A hashed timer wheel: entries hang in intrusive doubly linked lists, one list per slot, the
 * slot chosen by `floor(due / tickMs) mod slots`. Insert, move and remove are O(1); advancing
 * visits only the slots of the ticks that passed, and in each slot only entries hashed there.
 * With `slots * tickMs` longer than the longest delay, every entry visited is due.
 *
 * The links live in the entries themselves (`Timed`), so an object that is timed (a session
 * record) carries its own links and needs no separate entry object, and a subclass says how an
 * entry's due time is found (a session's is its last use plus the timeout, so it is not stored
 * twice); `TimerWheel` wraps values that do not carry links, with a due time each.
 */
export interface Timed<E> {
  /** @internal */ prev: E | undefined;
  /** @internal */ next: E | undefined;
  /** @internal slot index, -1 when not in the wheel. */ slot: number;
}

export abstract class IntrusiveTimerWheel<E extends Timed<E>> {
  private readonly heads: Array<E | undefined>;
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
    this.heads = new Array<E | undefined>(size).fill(undefined);
    this.mask = size - 1;
    this.tick = Math.floor(now / tickMs);
  }

  /** An entry's absolute due time (ms); it changes only through add or reschedule. */
  protected abstract dueOf(entry: E): number;

  get size(): number {
    return this.count;
  }

  /** Puts an entry that is not in the wheel (slot -1) into it, at its due time. */
  add(entry: E): void {
    this.link(entry, this.slotOf(this.dueOf(entry)));
  }

  /** An entry's due time changed (a session used again); an entry no longer in the wheel goes back in. */
  reschedule(entry: E): void {
    const slot = this.slotOf(this.dueOf(entry));
    if (entry.slot === slot) return;
    if (entry.slot >= 0) this.unlink(entry);
    this.link(entry, slot);
  }

  remove(entry: E): void {
    if (entry.slot >= 0) this.unlink(entry);
  }

  /**
   * Removes and returns entries due at or before `now`, at most `limit` of them; call again while
   * it returns `limit` entries (the rest stay in the wheel, still due).
   */
  advance(now: number, limit = Number.POSITIVE_INFINITY): E[] {
    const expired: E[] = [];
    const target = Math.floor(now / this.tickMs);
    // Never walk more than one rotation: after that every slot has been seen once.
    const start = Math.max(this.tick, target - this.mask);
    for (let t = start; t <= target; t++) {
      let entry = this.heads[t & this.mask];
      while (entry !== undefined) {
        const next: E | undefined = entry.next;
        if (this.dueOf(entry) <= now) {
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

  private link(entry: E, slot: number): void {
    const head = this.heads[slot];
    entry.slot = slot;
    entry.prev = undefined;
    entry.next = head;
    if (head !== undefined) head.prev = entry;
    this.heads[slot] = entry;
    this.count += 1;
  }

  private unlink(entry: E): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    else this.heads[entry.slot] = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    entry.slot = -1;
    this.count -= 1;
  }
}

/** A wheel entry wrapping a value that does not carry links itself. */
export interface WheelEntry<T> extends Timed<WheelEntry<T>> {
  readonly value: T;
  /** Absolute due time (ms). */
  due: number;
}

/** A timer wheel of plain values, each with its own due time: each is wrapped in an entry that carries the links. */
export class TimerWheel<T> extends IntrusiveTimerWheel<WheelEntry<T>> {
  protected dueOf(entry: WheelEntry<T>): number {
    return entry.due;
  }

  insert(value: T, due: number): WheelEntry<T> {
    const entry: WheelEntry<T> = { value, due, prev: undefined, next: undefined, slot: -1 };
    this.add(entry);
    return entry;
  }

  /** Reschedules an entry; an entry no longer in the wheel goes back in. */
  move(entry: WheelEntry<T>, due: number): void {
    entry.due = due;
    this.reschedule(entry);
  }
}
