/**
 * The monotonic clock every layer reads (test-run durations, run deadlines,
 * verification and compile times, the helpers' ktime): milliseconds since
 * this module was loaded, with sub-microsecond resolution.
 *
 * In a browser it is `performance.now()`. In Node it is `process.hrtime()`
 * (the same CLOCK_MONOTONIC), found by feature detection so that the core
 * imports no Node module: Node 20 defines the global `performance` lazily and
 * its first use loads the whole perf_hooks module family (observers, user
 * timing, histograms), a measurable part of a short CLI command's start
 * (docs/architecture.md, "Start-up"; test/cli-startup.test.ts checks that
 * `prog run` does not touch it).
 */
type HrTime = (prev?: [number, number]) => [number, number];

const hrtime = (globalThis as { process?: { hrtime?: HrTime } }).process?.hrtime;

const read: () => number = typeof hrtime === 'function' ? () => {
  const [s, ns] = hrtime();
  return s * 1e3 + ns / 1e6;
} : () => performance.now();

const origin = read();

/** Milliseconds on a monotonic clock, counted from this module's load (like performance.now() from the time origin). */
export function nowMs(): number {
  return read() - origin;
}
