/**
 * A one-line progress report for the long runs outside the CLI (`npm run fuzz`, the
 * unseen-objects suite): "label 120/400 (30%) 12 s, about 28 s left [note]", rewritten in place
 * at most a few times a second and erased at the end. Only on a terminal: in CI logs, pipes and
 * redirected output it writes nothing, so logs stay what they were.
 *
 * Under `node --test` a test file's stderr is a pipe to the runner, never a terminal; the suite
 * scripts set TSBPF_PROGRESS=1 when their own stderr is one, and the report then goes straight to
 * the controlling terminal (/dev/tty), past the runner.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const INTERVAL_MS = 250;

export class Progress {
  private fd: number | undefined;
  private ownFd = false;
  private lastWrite = 0;
  private shown = false;
  private readonly t0 = performance.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
  ) {
    if (process.stderr.isTTY) this.fd = 2;
    else if (process.env.TSBPF_PROGRESS === '1') {
      try {
        this.fd = openSync('/dev/tty', 'w');
        this.ownFd = true;
      } catch {
        this.fd = undefined; // no controlling terminal: stay quiet
      }
    }
  }

  /** Whether anything is shown (a terminal is there). */
  get active(): boolean {
    return this.fd !== undefined;
  }

  /** `done` of `total` finished; shown when the last report is old enough (or at the end). */
  tick(done: number, note = ''): void {
    if (this.fd === undefined) return;
    const now = performance.now();
    if (now - this.lastWrite < INTERVAL_MS && done < this.total) return;
    this.lastWrite = now;
    const secs = (now - this.t0) / 1000;
    const pct = this.total ? Math.floor((100 * done) / this.total) : 100;
    const left = done > 0 && done < this.total ? `, about ${Math.ceil((secs / done) * (this.total - done))} s left` : '';
    const cols = process.stderr.columns || 100;
    const line = `${this.label} ${done}/${this.total} (${pct}%) ${secs.toFixed(0)} s${left}${note ? `; ${note}` : ''}`.slice(0, cols - 1);
    writeSync(this.fd, `\r\x1b[2K${line}`);
    this.shown = true;
  }

  /** Erase the line, so that ordinary output can follow (call before printing, then tick again). */
  clear(): void {
    if (this.fd === undefined || !this.shown) return;
    writeSync(this.fd, '\r\x1b[2K');
    this.shown = false;
  }

  /** Erase the line and let go of the terminal. */
  end(): void {
    this.clear();
    if (this.ownFd && this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
