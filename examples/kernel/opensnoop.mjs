// opensnoop.mjs: every open on the machine with its result, printed as it
// happens (as root). An entry and an exit program fill a ring buffer:
//   --mode kprobe      kprobe/kretprobe on do_sys_openat2 (every open call)
//   --mode fentry      fentry/fexit on the same function (BTF, no kprobes needed)
//   --mode tracepoint  the syscalls/sys_{enter,exit}_openat tracepoints
// The default takes kprobes, falls back to fentry on a kernel without them
// (libbpf-tools' fentry_can_attach choice, the other way round), then to
// the tracepoints where the kernel refuses fentry too.
// --pid N shows one process only.
//   sudo node examples/kernel/opensnoop.mjs [--mode M] [--pid N] [--count N]
import { loadObjectFile } from 'tsbpf';
import { KernelRuntime, KernelRingBufReader, KernelFeatureError } from 'tsbpf/kernel';

const opt = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const [only, count] = [opt('--pid'), opt('--count')].map((v) => (v === undefined ? undefined : Number(v)));
const PAIRS = {
  kprobe: ['openat2_kprobe', 'openat2_kretprobe'],
  fentry: ['openat2_fentry', 'openat2_fexit'],
  tracepoint: ['openat_enter', 'openat_exit'],
};
const wanted = opt('--mode') ?? 'auto';
if (wanted !== 'auto' && !PAIRS[wanted]) {
  console.error(`opensnoop: --mode is kprobe, fentry or tracepoint, not ${wanted}`);
  process.exit(2);
}
const spec = await loadObjectFile(new URL('./opensnoop.o', import.meta.url).pathname);
const rt = new KernelRuntime();

/** Load only the pair of `mode` (libbpf's set_autoload(false) for the others) and attach it where its sections say. */
async function open(mode) {
  const coll = await rt.load(spec, { programs: PAIRS[mode] });
  try {
    return { coll, links: PAIRS[mode].map((p) => coll.program(p).attach()) };
  } catch (e) {
    coll.close();
    throw e;
  }
}

// auto: the first pair this kernel loads and attaches, saying why the others were passed over
let mode, coll, links;
for (const m of wanted === 'auto' ? ['kprobe', 'fentry', 'tracepoint'] : [wanted]) {
  try {
    ({ coll, links } = await open(m));
    mode = m;
    break;
  } catch (e) {
    // a KernelFeatureError names the config option the kernel lacks (CONFIG_KPROBES)
    console.error(`opensnoop: ${m} mode unavailable${e instanceof KernelFeatureError ? ` (${e.config})` : ''}: ${e.message}`);
  }
}
if (!mode) process.exit(1);
console.error(`opensnoop: tracing with ${PAIRS[mode].join(' + ')}`);
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
  if (++n >= (count ?? Infinity)) break;
}
reader.close();
for (const l of links) l.detach();
coll.close();
