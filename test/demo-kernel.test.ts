/**
 * The README's demo (`tsbpf demo`) and its kernel mode: as root it loads the
 * bundled examples/kernel/execsnoop.o and syscount.o into the running kernel
 * and traces the machine (an exec it makes itself is printed as it happens,
 * then system calls per process and their log2 histogram); without root it
 * says why it skips that part and prints nothing else of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { BIN } from './paths.js';
import { kernelSkip, which } from './kernel-support.js';

const run = promisify(execFile);

test('tsbpf demo as root: its kernel mode traces the machine with the bundled kernel examples', { timeout: 60_000 }, async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const { stdout } = await run(process.execPath, [BIN, 'demo', '--requests', '5', '--kernel-seconds', '1'], { timeout: 60_000 });
  const kernel = stdout.slice(stdout.indexOf('Kernel mode (root): '));
  assert.ok(kernel.length < stdout.length, stdout);
  assert.match(kernel, /^ {2}tracepoint\/syscalls\/sys_enter_execve$/m);
  assert.match(kernel, /^ {2}raw_tp\/sys_enter$/m);
  // the demo's own exec of /bin/true, read from the kernel's ring buffer
  assert.match(kernel, /^exec: pid \d+ \S+ \/bin\/true$/m);
  const m = /^(\d+) execs; (\d+) system calls by (\d+) processes in 1 s, the busiest:$/m.exec(kernel);
  assert.ok(m, kernel);
  assert.ok(Number(m[1]) >= 1 && Number(m[2]) > 0 && Number(m[3]) >= 1, m[0]);
  // bpftrace's histogram of per-process counts: one entry per process counted
  const h = kernel.split('\n@syscalls_per_process:\n')[1];
  assert.ok(h, kernel);
  const rows = h.split('\n').filter((l) => l.startsWith('['));
  assert.ok(rows.every((l) => /^\[[^\]]+[\])]\s+\d+ \|@* *\|$/.test(l)), h);
  assert.equal(rows.reduce((n, l) => n + Number(/\s(\d+) \|/.exec(l)![1]), 0), Number(m[3]));
});

test('tsbpf demo without root says why it skips the kernel mode', { timeout: 60_000 }, async (t) => {
  // as root the check runs as the user nobody (runuser), elsewhere as the user running the tests
  const root = process.getuid?.() === 0;
  if (root && !which('runuser')) return t.skip('root, and runuser (util-linux) is missing to run the demo as another user');
  const cmd = root ? ['runuser', ['-u', 'nobody', '--', process.execPath, BIN]] as const : [process.execPath, [BIN]] as const;
  let stdout: string;
  try {
    ({ stdout } = await run(cmd[0], [...cmd[1], 'demo', '--requests', '5'], { timeout: 60_000 }));
  } catch (e) {
    if (root) return t.skip(`the user nobody cannot run the demo from this tree: ${(e as Error).message.split('\n')[0]}`);
    throw e;
  }
  assert.match(stdout, /^@requests\[\/api\/users\]: 3$/m, 'the user-space demo ran as before');
  assert.match(stdout, /^Kernel mode skipped: (not root \(bpf\(2\) needs CAP_BPF\)|not Linux \(\w+\))\. As root, the demo also loads examples\/kernel\/execsnoop\.o and syscount\.o/m);
  assert.doesNotMatch(stdout, /Kernel mode \(root\)|^exec: /m);
});
