/**
 * Server CPU per request: each measured call's CPU time of the server (all its threads, user and
 * system, from /proc/<pid>/stat) over the requests it completed, warm-ups and ramps included. On
 * a machine whose throughput swings by tens of percent between runs this figure moves much less,
 * and it is the part of a round trip the server controls.
 */
export class CpuMeter<S extends string> {
  private readonly totals = new Map<S, { micros: number; requests: number }>();

  /** `cpuMicros` reads a side's server CPU time so far (undefined where /proc is not there). */
  constructor(private readonly cpuMicros: (side: S) => number | undefined) {}

  /** `run` with its server's CPU time and its completed requests added to that side's totals. */
  async measure<R>(side: S, run: () => Promise<R>, completed: (result: R) => number): Promise<R> {
    const before = this.cpuMicros(side);
    const result = await run();
    const after = this.cpuMicros(side);
    if (before !== undefined && after !== undefined) {
      const total = this.totals.get(side) ?? { micros: 0, requests: 0 };
      total.micros += after - before;
      total.requests += completed(result);
      this.totals.set(side, total);
    }
    return result;
  }

  perRequest(side: S): number | undefined {
    const total = this.totals.get(side);
    return total === undefined || total.requests === 0 ? undefined : total.micros / total.requests;
  }

  /** `; server CPU <a> µs per request vs <b> µs` for a note, or nothing when it was not measured. */
  note(side: S, against: S): string {
    const [ours, theirs] = [this.perRequest(side), this.perRequest(against)];
    return ours === undefined || theirs === undefined ? '' : `; server CPU ${ours.toFixed(1)} µs per request vs ${theirs.toFixed(1)} µs`;
  }
}
