// execsnoop.mjs: every execve() on the machine, printed as it happens (as root).
// A tracepoint program fills a ring buffer; this reads it over its mmap'ed
// pages, woken by epoll (no polling).
//   sudo node examples/kernel/execsnoop.mjs [--count N]
import { loadObjectFile } from 'tsbpf';
import { KernelRuntime, KernelRingBufReader } from 'tsbpf/kernel';

const count = Number(process.argv[process.argv.indexOf('--count') + 1] || Infinity);
const rt = new KernelRuntime();
const coll = await rt.load(await loadObjectFile(new URL('./execsnoop.o', import.meta.url).pathname));
const link = coll.program('execsnoop').attach(); // SEC("tracepoint/syscalls/sys_enter_execve")
const reader = new KernelRingBufReader(coll.map('events'));
const text = (b) => new TextDecoder().decode(b.subarray(0, b.indexOf(0) < 0 ? b.length : b.indexOf(0)));
process.on('SIGINT', () => reader.close());

console.log(`${'PID'.padEnd(8)} ${'COMM'.padEnd(16)} FILENAME`);
let n = 0;
for await (const rec of reader) {
  const pid = new DataView(rec.buffer, rec.byteOffset).getUint32(0, true);
  console.log(`${String(pid).padEnd(8)} ${text(rec.subarray(8, 24)).padEnd(16)} ${text(rec.subarray(24, 152))}`);
  if (++n >= count) break;
}
reader.close();
link.detach();
coll.close();
