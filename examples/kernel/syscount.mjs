// syscount.mjs: system calls per process, with a bpftrace-style log2
// histogram of the per-process counts, every second (as root).
//   sudo node examples/kernel/syscount.mjs [--seconds N]
import { readFileSync } from 'node:fs';
import { loadObjectFile } from 'tsbpf';
import { KernelRuntime } from 'tsbpf/kernel';

const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1] || Infinity);
const rt = new KernelRuntime();
const coll = await rt.load(await loadObjectFile(new URL('./syscount.o', import.meta.url).pathname));
const link = coll.program('syscount').attach(); // SEC("raw_tp/sys_enter")
const counts = coll.map('counts');
const comm = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
};

/** bpftrace's hist(): power-of-two buckets, bars of @ scaled to the largest */
function hist(values) {
  const buckets = new Map();
  for (const v of values) {
    const b = v === 0n ? -1 : v.toString(2).length - 1;
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const max = Math.max(...buckets.values());
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const lines = [];
  for (let b = keys[0]; b <= keys[keys.length - 1]; b++) {
    const n = buckets.get(b) ?? 0;
    const lo = b < 0 ? 0 : 2 ** b;
    const hi = b < 0 ? 1 : 2 ** (b + 1);
    lines.push(`[${lo}, ${hi})`.padEnd(20) + String(n).padStart(6) + ' |' + '@'.repeat(Math.round((n / max) * 50)).padEnd(50) + '|');
  }
  return lines.join('\n');
}

for (let s = 0; s < seconds; s++) {
  await new Promise((r) => setTimeout(r, 1000));
  const rows = [];
  for (const [k, v] of counts.entries()) rows.push([new DataView(k.buffer, k.byteOffset).getUint32(0, true), new DataView(v.buffer, v.byteOffset).getBigUint64(0, true)]);
  rows.sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
  console.log(`--- after ${s + 1}s: ${rows.length} processes`);
  for (const [pid, n] of rows.slice(0, 5)) console.log(`${String(pid).padStart(8)} ${comm(pid).padEnd(16)} ${n}`);
  if (rows.length) console.log(`@syscalls_per_process:\n${hist(rows.map((r) => r[1]))}`);
}
link.detach();
coll.close();
