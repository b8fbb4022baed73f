/**
 * Command output written straight to file descriptor 1.
 *
 * `process.stdout` is a stream Node builds on first use (a SyncWriteStream, a
 * tty.WriteStream or a net.Socket, with Node's stream modules under it): a
 * measurable part of a short command's start (docs/architecture.md,
 * "Start-up"). A command whose output is one write (`prog run`, `run`) uses
 * this instead; bin/tsbpf then never builds the stream. Writes on Linux's
 * stdout are synchronous for files, pipes and terminals alike, so output
 * mixed with process.stdout's keeps its order.
 */
import { writeSync } from 'node:fs';

/** Write `text` to standard output synchronously; a closed pipe (`| head`) ends the command quietly, as bin/tsbpf does for the stream. */
export function writeStdout(text: string | Uint8Array): void {
  let data = typeof text === 'string' ? Buffer.from(text) : text;
  while (data.length > 0) {
    try {
      data = data.subarray(writeSync(1, data));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EPIPE') process.exit(0);
      // a non-blocking descriptor inherited from the parent: try again
      if (code !== 'EAGAIN') throw e;
    }
  }
}
