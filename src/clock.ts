// The one place Rescue reads the wall clock (DESIGN.md invariant 6). Everything else is handed a
// Clock or an explicit instant, so test clocks and backtests replay time exactly.
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export function fixedClock(at: Date): Clock {
  return { now: () => new Date(at.getTime()) };
}

/** A monotonic stopwatch for durations (latencies), unaffected by any Clock: returns elapsed ms. */
export function stopwatch(): () => number {
  const start = performance.now();
  return () => performance.now() - start;
}
