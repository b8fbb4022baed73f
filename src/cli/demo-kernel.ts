/**
 * `tsbpf demo`'s kernel mode (commands/demo.ts): as root on a kernel that takes BPF programs, the
 * bundled examples/kernel/execsnoop.o (a tracepoint on execve filling a ring
 * buffer) and syscount.o (a raw tracepoint on every system call, counting per
 * process) are loaded into the running kernel through tsbpf/kernel and trace
 * the whole machine for a few seconds: execs printed as they happen, then
 * the busiest processes and a log2 histogram of system calls per process, as
 * bpftrace prints it. Elsewhere it prints why it skips and touches nothing
 * (kernelUnavailable checks the user before it loads the FFI).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { release } from 'node:os';
import { loadObjectFileSync } from '../object/file.js';
import { formatLog2Hist, log2Slot } from '../hooks/print.js';

type Out = { write(s: string): unknown };

const cstr = (b: Uint8Array): string => new TextDecoder().decode(b.indexOf(0) < 0 ? b : b.subarray(0, b.indexOf(0)));

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?'; // the process has exited
  }
}

export async function kernelMode(examples: string, seconds: number, out: Out): Promise<void> {
  const { kernelUnavailable, KernelRuntime, KernelRingBufReader } = await import('../kernel/index.js');
  const why = await kernelUnavailable();
  if (why) {
    out.write(`Kernel mode skipped: ${why}. As root, the demo also loads examples/kernel/execsnoop.o and syscount.o into the running kernel and traces the machine for ${seconds} s.\n`);
    return;
  }
  const dir = resolve(examples, 'kernel');
  const rt = new KernelRuntime();
  try {
    const exec = await rt.load(loadObjectFileSync(resolve(dir, 'execsnoop.o')));
    const sys = await rt.load(loadObjectFileSync(resolve(dir, 'syscount.o')));
    const links = [exec.program('execsnoop').attach(), sys.program('syscount').attach()];
    out.write(`Kernel mode (root): examples/kernel/execsnoop.o and syscount.o loaded into Linux ${release()}, tracing the machine for ${seconds} s...\n`);
    for (const l of links) out.write(`  ${l.target}\n`);
    const reader = new KernelRingBufReader(exec.map('events'));
    let execs = 0;
    const show = (rec: Uint8Array): void => {
      execs++;
      out.write(`exec: pid ${new DataView(rec.buffer, rec.byteOffset).getUint32(0, true)} ${cstr(rec.subarray(8, 24))} ${cstr(rec.subarray(24, 152))}\n`);
    };
    const consumer = (async () => {
      for await (const rec of reader) show(rec);
    })();
    try {
      // one exec of our own, so there is something to see on a quiet machine
      await new Promise<void>((r) => execFile('/bin/true', () => r()));
      await new Promise((r) => setTimeout(r, seconds * 1000));
    } finally {
      for (const l of links) l.detach();
      reader.consume(show);
      reader.close();
      await consumer;
    }
    const rows: Array<[number, bigint]> = [];
    for (const [k, v] of sys.map('counts').entries()) {
      rows.push([new DataView(k.buffer, k.byteOffset).getUint32(0, true), new DataView((v as Uint8Array).buffer, (v as Uint8Array).byteOffset).getBigUint64(0, true)]);
    }
    rows.sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
    const total = rows.reduce((n, r) => n + r[1], 0n);
    out.write(`\n${execs} execs; ${total} system calls by ${rows.length} processes in ${seconds} s, the busiest:\n`);
    for (const [pid, n] of rows.slice(0, 5)) out.write(`${String(pid).padStart(8)} ${comm(pid).padEnd(16)} ${n}\n`);
    const slots: bigint[] = [];
    for (const [, n] of rows) {
      const s = log2Slot(n);
      while (slots.length <= s) slots.push(0n);
      slots[s]! += 1n;
    }
    out.write(`\n${formatLog2Hist('syscalls_per_process', slots)}`);
  } finally {
    rt.close(); // closes both collections
  }
}
