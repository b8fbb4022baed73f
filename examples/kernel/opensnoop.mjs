// opensnoop.mjs: every openat() on the machine with its result, printed as
// it happens (as root). Two tracepoint programs (syscall entry and exit)
// fill a ring buffer; --pid N shows one process only.
//   sudo node examples/kernel/opensnoop.mjs [--pid N] [--count N]
import { loadObjectFile } from 'tsbpf';
import { KernelRuntime, KernelRingBufReader } from 'tsbpf/kernel';

const arg = (name) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : undefined);
const [only, count] = [arg('--pid'), arg('--count') ?? Infinity];
const rt = new KernelRuntime();
const coll = await rt.load(await loadObjectFile(new URL('./opensnoop.o', import.meta.url).pathname));
const links = [coll.program('openat_enter').attach(), coll.program('openat_exit').attach()];
const reader = new KernelRingBufReader(coll.map('events'));
const text = (b) => new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
process.on('SIGINT', () => reader.close());

console.log(`${'PID'.padEnd(8)} ${'COMM'.padEnd(16)} ${'FD'.padStart(4)} ${'ERR'.padStart(4)} PATH`);
let n = 0;
for await (const rec of reader) {
  const dv = new DataView(rec.buffer, rec.byteOffset);
  const [pid, ret] = [dv.getUint32(0, true), dv.getInt32(4, true)];
  if (only !== undefined && pid !== only) continue;
  const [fd, err] = ret >= 0 ? [ret, 0] : [-1, -ret];
  console.log(`${String(pid).padEnd(8)} ${text(rec.subarray(16, 32)).padEnd(16)} ${String(fd).padStart(4)} ${String(err).padStart(4)} ${text(rec.subarray(32, 160))}`);
  if (++n >= count) break;
}
reader.close();
for (const l of links) l.detach();
coll.close();
