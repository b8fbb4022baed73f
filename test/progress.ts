/**
 * The progress line of the long runs outside the CLI (`npm run fuzz`, the unseen-objects
 * suite): src/cli/progress.ts's line, on the right terminal. Only on a terminal: in CI logs,
 * pipes and redirected output it writes nothing, so logs stay what they were.
 *
 * Under `node --test` a test file's stderr is a pipe to the runner, never a terminal; the suite
 * scripts set TSBPF_PROGRESS=1 when their own stderr is one, and the line then goes straight to
 * the controlling terminal (/dev/tty), past the runner.
 */
import { openSync } from 'node:fs';
import { WriteStream } from 'node:tty';
import { progress, type Progress } from '../src/cli/progress.js';

/** A progress line for a test run; `close()` erases it and lets go of the terminal. */
export function testProgress(label: string, total: number): Progress & { close(): void } {
  let tty: WriteStream | undefined;
  if (!process.stderr.isTTY && process.env.TSBPF_PROGRESS === '1') {
    try {
      tty = new WriteStream(openSync('/dev/tty', 'w'));
    } catch {
      tty = undefined; // no controlling terminal: stay quiet
    }
  }
  const line = progress(label, total, tty ? { stream: tty } : {});
  return {
    update: (done, note) => line.update(done, note),
    end: () => line.end(),
    close() {
      line.end();
      tty?.destroy();
    },
  };
}
