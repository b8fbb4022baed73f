/**
 * Progress for commands that take seconds: one line on standard error,
 * redrawn at most ten times a second, only when standard error is a
 * terminal and the output is not JSON (a pipe, a log file or `-j` stay
 * clean, as bpftool's output does). With a total, the line says how long
 * the rest should take. The line is erased when the work ends (and drawn
 * again by the next update: end() also clears it for other output).
 * The long test runs use it too (test/progress.ts picks their terminal).
 */
export interface Progress {
  /** `done` of `total` units (total 0: a count without a bar), with an optional note */
  update(done: number, note?: string): void;
  /** erase the line */
  end(): void;
}

const QUIET: Progress = { update() {}, end() {} };

export function progress(label: string, total: number, opts: { json?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const out = opts.stream ?? process.stderr;
  if (opts.json || out.isTTY !== true) return QUIET;
  let last = 0;
  let drawn = false;
  const t0 = Date.now();
  return {
    update(done, note) {
      const now = Date.now();
      if (drawn && now - last < 100 && done !== total) return;
      last = now;
      drawn = true;
      const width = 30;
      const bar = total > 0 ? `[${'#'.repeat(Math.round((Math.min(done, total) / total) * width)).padEnd(width)}] ${done}/${total}` : done ? `${done}` : '';
      const secs = (now - t0) / 1000;
      // the rest at the rate so far, once there is a rate to speak of
      const eta = total > 0 && done > 0 && done < total && secs >= 1 ? `about ${Math.ceil((secs / done) * (total - done))} s left` : '';
      const cols = out.columns ?? 80;
      out.write(`\r\x1b[K${[label, bar, eta, note].filter(Boolean).join(' ').slice(0, cols - 1)}`);
    },
    end() {
      if (drawn) out.write('\r\x1b[K');
      drawn = false;
    },
  };
}
