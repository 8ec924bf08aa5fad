import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TimerWheel, type WheelEntry } from '../../../src/sessions/timerWheel.js';

/**
 * Model-based tests of the hashed timer wheel. The model is a Map of value -> due; every
 * operation is applied to both, and after each one the wheel must agree with the model.
 * Times are integers in virtual time; nothing here sleeps or measures wall-clock time.
 */

interface Config {
  tickMs: number;
  horizonMs: number;
  start: number;
}

/** A delay chosen relative to the wheel's scale: band 0 = in the past, 1 = a few ticks, 2 = within the horizon, 3 = many rotations. */
interface Delay {
  band: number;
  n: number;
}

type Op =
  | { kind: 'insert'; delay: Delay }
  | { kind: 'move'; pick: number; delay: Delay }
  | { kind: 'remove'; pick: number }
  | { kind: 'advance'; step: Delay; limit: number | undefined };

/** An upper bound on one rotation of the wheel (slots * tickMs), whatever its exact sizing. */
function rotationBound(config: Config): number {
  return 2 * config.tickMs * Math.max(64, Math.ceil(config.horizonMs / config.tickMs) + 2);
}

function delayOf(config: Config, d: Delay, allowPast: boolean): number {
  switch (d.band) {
    case 0:
      return allowPast ? -(d.n % (3 * config.tickMs + 1)) : 0;
    case 1:
      return d.n % (3 * config.tickMs + 1);
    case 2:
      return d.n % (config.horizonMs + 1);
    default:
      // Longer than the horizon, up to several rotations: entries share slots with earlier ones.
      return d.n % (5 * rotationBound(config) + 1);
  }
}

const configArb: fc.Arbitrary<Config> = fc
  .record({
    tickMs: fc.oneof(fc.constantFrom(1, 2, 7, 10, 250, 500, 1000), fc.integer({ min: 1, max: 5000 })),
    horizonTicks: fc.integer({ min: 0, max: 300 }),
    horizonExtra: fc.nat(),
    start: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 1_000_000_000 }),
      // Realistic epoch milliseconds: with tickMs 1 the tick number exceeds 2^32.
      fc.constant(Date.UTC(2026, 0, 1)),
      fc.integer({ min: 2 ** 40, max: 2 ** 45 }),
    ),
  })
  .map(({ tickMs, horizonTicks, horizonExtra, start }) => ({
    tickMs,
    horizonMs: horizonTicks * tickMs + (horizonExtra % tickMs),
    start,
  }));

const delayArb: fc.Arbitrary<Delay> = fc.record({ band: fc.integer({ min: 0, max: 3 }), n: fc.nat() });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), delay: delayArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), delay: delayArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      step: delayArb,
      limit: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    }),
  },
);

class Harness {
  now: number;
  readonly wheel: TimerWheel<number>;
  readonly model = new Map<number, number>();
  readonly entries = new Map<number, WheelEntry<number>>();
  /** Values that left the wheel (removed or returned); advance must never return them. */
  readonly gone = new Set<number>();
  private nextValue = 0;

  constructor(readonly config: Config) {
    this.now = config.start;
    this.wheel = new TimerWheel<number>(config.tickMs, config.horizonMs, config.start);
  }

  private pick(pick: number): number | undefined {
    if (this.model.size === 0) return undefined;
    const live = [...this.model.keys()];
    return live[pick % live.length];
  }

  insert(due: number): WheelEntry<number> {
    const value = this.nextValue++;
    const entry = this.wheel.insert(value, due);
    expect(entry.value).toBe(value);
    expect(entry.due).toBe(due);
    this.model.set(value, due);
    this.entries.set(value, entry);
    return entry;
  }

  apply(op: Op): void {
    switch (op.kind) {
      case 'insert':
        this.insert(this.now + delayOf(this.config, op.delay, true));
        break;
      case 'move': {
        const value = this.pick(op.pick);
        if (value === undefined) break;
        const due = this.now + delayOf(this.config, op.delay, true);
        this.wheel.move(this.entries.get(value)!, due);
        this.model.set(value, due);
        break;
      }
      case 'remove': {
        const value = this.pick(op.pick);
        if (value === undefined) break;
        this.wheel.remove(this.entries.get(value)!);
        this.model.delete(value);
        this.entries.delete(value);
        this.gone.add(value);
        break;
      }
      case 'advance':
        this.advanceTo(this.now + delayOf(this.config, op.step, false), op.limit);
        break;
    }
    expect(this.wheel.size).toBe(this.model.size);
  }

  /** Advances the wheel to `now` (draining with `limit` if given) and checks the result against the model. */
  advanceTo(now: number, limit?: number): number[] {
    this.now = now;
    const due = new Set<number>();
    for (const [value, d] of this.model) if (d <= now) due.add(value);
    const got: number[] = [];
    const take = (out: WheelEntry<number>[]): void => {
      for (const entry of out) {
        // Never an entry that was removed, already returned, moved out of range, or not due.
        expect(this.gone.has(entry.value), `value ${entry.value} came back`).toBe(false);
        expect(this.model.has(entry.value)).toBe(true);
        expect(entry.due).toBe(this.model.get(entry.value));
        expect(entry.due).toBeLessThanOrEqual(now);
        this.model.delete(entry.value);
        this.entries.delete(entry.value);
        this.gone.add(entry.value);
        got.push(entry.value);
      }
    };
    if (limit === undefined) {
      take(this.wheel.advance(now));
    } else {
      for (let round = 0; ; round++) {
        expect(round).toBeLessThanOrEqual(due.size + 1);
        const remaining = due.size - got.length;
        const out = this.wheel.advance(now, limit);
        expect(out.length).toBe(Math.min(limit, remaining));
        take(out);
        expect(this.wheel.size).toBe(this.model.size);
        if (out.length < limit) break;
      }
    }
    expect(new Set(got)).toEqual(due);
    expect(this.wheel.size).toBe(this.model.size);
    return got;
  }
}

describe('TimerWheel (model-based)', () => {
  test('advance returns exactly the due entries; size always matches the model', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 120 }), (config, ops) => {
        const h = new Harness(config);
        for (const op of ops) h.apply(op);
        // Far in the future (several rotations on): everything left comes out, exactly once.
        const left = new Set(h.model.keys());
        const got = h.advanceTo(h.now + 7 * rotationBound(config) + 3 * config.horizonMs);
        expect(new Set(got)).toEqual(left);
        expect(h.wheel.size).toBe(0);
        expect(h.wheel.advance(h.now + 100 * rotationBound(config))).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  test('with a limit, each call returns min(limit, due) entries and repeated calls drain all due entries', () => {
    const limitedOp: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), delay: delayArb }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), delay: delayArb }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('advance' as const), step: delayArb, limit: fc.integer({ min: 1, max: 4 }) }),
      },
    );
    fc.assert(
      fc.property(configArb, fc.array(limitedOp, { maxLength: 150 }), (config, ops) => {
        const h = new Harness(config);
        for (const op of ops) h.apply(op);
        h.advanceTo(h.now + 7 * rotationBound(config), 3);
        expect(h.wheel.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  test('a partial drain (limit reached) followed by inserts, moves and a later advance loses nothing', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(delayArb, { minLength: 1, maxLength: 40 }),
        fc.array(opArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 3 }),
        (config, initial, ops, limit) => {
          const h = new Harness(config);
          for (const d of initial) h.insert(h.now + delayOf(config, d, true));
          // One limited call only (do not drain), then keep going with random operations.
          h.now += rotationBound(config) * 2;
          const dueBefore = [...h.model.values()].filter((d) => d <= h.now).length;
          const out = h.wheel.advance(h.now, limit);
          expect(out.length).toBe(Math.min(limit, dueBefore));
          for (const entry of out) {
            expect(entry.due).toBeLessThanOrEqual(h.now);
            expect(h.model.get(entry.value)).toBe(entry.due);
            h.model.delete(entry.value);
            h.entries.delete(entry.value);
            h.gone.add(entry.value);
          }
          expect(h.wheel.size).toBe(h.model.size);
          for (const op of ops) h.apply(op);
          h.advanceTo(h.now + 7 * rotationBound(config));
          expect(h.wheel.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('when the horizon covers every delay, advance only visits due entries (or ones due within the current tick)', () => {
    // Delays are bounded by the horizon here; `due` reads are instrumented to count visits.
    const boundedOp: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('insert' as const),
          delay: fc.record({ band: fc.integer({ min: 0, max: 2 }), n: fc.nat() }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant('move' as const),
          pick: fc.nat(),
          delay: fc.record({ band: fc.integer({ min: 1, max: 2 }), n: fc.nat() }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
      {
        weight: 3,
        // Any step, clock jumps of several rotations included; no limit.
        arbitrary: fc.record({ kind: fc.constant('advance' as const), step: delayArb, limit: fc.constant(undefined) }),
      },
    );
    fc.assert(
      fc.property(configArb, fc.array(boundedOp, { maxLength: 120 }), (config, ops) => {
        const h = new Harness(config);
        let advancingTo: number | undefined;
        const badVisits: string[] = [];
        const originalInsert = h.insert.bind(h);
        h.insert = (due: number): WheelEntry<number> => {
          const entry = originalInsert(due);
          let value = entry.due;
          Object.defineProperty(entry, 'due', {
            get: () => {
              if (advancingTo !== undefined && value > advancingTo) {
                const sameTick = Math.floor(value / config.tickMs) === Math.floor(advancingTo / config.tickMs);
                if (!sameTick) badVisits.push(`entry ${entry.value} due ${value} visited at ${advancingTo}`);
              }
              return value;
            },
            set: (v: number) => {
              value = v;
            },
          });
          return entry;
        };
        const originalAdvance = h.wheel.advance.bind(h.wheel);
        h.wheel.advance = (now: number, limit?: number): WheelEntry<number>[] => {
          advancingTo = now;
          try {
            return originalAdvance(now, limit);
          } finally {
            advancingTo = undefined;
          }
        };
        for (const op of ops) h.apply(op);
        expect(badVisits).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('TimerWheel (examples)', () => {
  test('100k entries due far in the future and one due now: advance returns just the one', () => {
    const tickMs = 500;
    const horizonMs = 30 * 60_000;
    const now = Date.UTC(2026, 0, 1);
    const wheel = new TimerWheel<number>(tickMs, horizonMs, now);
    let visitsOfNotDue = 0;
    let advancingTo: number | undefined;
    for (let i = 0; i < 100_000; i++) {
      const entry = wheel.insert(i, now + tickMs * (1 + (i % 3600)));
      let due = entry.due;
      Object.defineProperty(entry, 'due', {
        get: () => {
          if (advancingTo !== undefined && due > advancingTo) visitsOfNotDue += 1;
          return due;
        },
        set: (v: number) => {
          due = v;
        },
      });
    }
    wheel.insert(-1, now);
    expect(wheel.size).toBe(100_001);
    advancingTo = now;
    const out = wheel.advance(now);
    expect(out.map((e) => e.value)).toEqual([-1]);
    expect(visitsOfNotDue).toBe(0);
    // One tick later: exactly the entries due in it (i % 3600 === 0), still no visit of a non-due one.
    advancingTo = now + tickMs;
    const next = wheel.advance(now + tickMs);
    expect(next.length).toBe(Math.ceil(100_000 / 3600));
    expect(next.every((e) => e.value % 3600 === 0)).toBe(true);
    expect(visitsOfNotDue).toBe(0);
    advancingTo = undefined;
    expect(wheel.size).toBe(100_000 - next.length);
  });

  test('a removed entry is never returned, and removing twice is harmless', () => {
    const wheel = new TimerWheel<string>(10, 1000, 0);
    const a = wheel.insert('a', 50);
    const b = wheel.insert('b', 50);
    wheel.remove(a);
    wheel.remove(a);
    expect(wheel.size).toBe(1);
    expect(wheel.advance(100).map((e) => e.value)).toEqual(['b']);
    // b was returned (unlinked): removing it now changes nothing.
    wheel.remove(b);
    expect(wheel.size).toBe(0);
  });

  test('an entry moved out of the due range is not returned until its new due time', () => {
    const wheel = new TimerWheel<string>(10, 1000, 0);
    const a = wheel.insert('a', 100);
    wheel.move(a, 100 + 64 * 10 * 3); // same slot, three rotations later
    expect(wheel.advance(100)).toEqual([]);
    expect(wheel.advance(1000)).toEqual([]);
    expect(wheel.advance(100 + 64 * 10 * 3 - 1)).toEqual([]);
    expect(wheel.advance(100 + 64 * 10 * 3).map((e) => e.value)).toEqual(['a']);
    const b = wheel.insert('b', 5000);
    wheel.move(b, 9000);
    expect(wheel.advance(8999)).toEqual([]);
    expect(wheel.advance(9000).map((e) => e.value)).toEqual(['b']);
  });

  test('an entry inserted already overdue is returned by the next advance', () => {
    const wheel = new TimerWheel<string>(10, 1000, 5000);
    expect(wheel.advance(6000)).toEqual([]);
    wheel.insert('late', 10);
    expect(wheel.advance(6000).map((e) => e.value)).toEqual(['late']);
  });

  test('an entry due later within the current tick is found by the next advance of that tick', () => {
    const wheel = new TimerWheel<string>(100, 1000, 0);
    wheel.insert('x', 250);
    expect(wheel.advance(210)).toEqual([]);
    expect(wheel.advance(249)).toEqual([]);
    expect(wheel.advance(250).map((e) => e.value)).toEqual(['x']);
  });

  // BUG (src/sessions/timerWheel.ts, move): move() on an entry that is no longer in the wheel
  // (removed, or already returned by advance) calls unlink() on it although its slot is -1:
  // `this.heads[-1] = entry.next` and `count -= 1`, then link() puts it back (`count += 1`). The
  // entry is linked again but `size` does not count it, so a later advance returns it and `size`
  // goes to -1. Either a no-op or a proper re-insert would be consistent; this is neither.
  // The registry never does this today (an expired/dropped record is gone from `records`).
  test('move() on an entry that already left the wheel keeps size consistent', () => {
    const wheel = new TimerWheel<string>(10, 1000, 0);
    const a = wheel.insert('a', 100);
    wheel.remove(a);
    expect(wheel.size).toBe(0);
    wheel.move(a, 200);
    const sizeAfterMove = wheel.size;
    const out = wheel.advance(10_000);
    expect(out.length).toBe(sizeAfterMove);
    expect(wheel.size).toBe(0);
  });
});
