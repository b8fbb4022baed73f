/**
 * One end-to-end use of tsbpf's browser-safe core (src/core.ts), run both in
 * headless Chromium (page.ts) and under Node (browser-core.test.ts) with the
 * same code, so the test can compare the two results field by field.
 *
 * It takes the core module and a byte fetcher as arguments: in the browser
 * the core is `/dist/src/core.js` and bytes come from fetch(); under Node the
 * very same dist/src/core.js and readFile. Everything returned is plain JSON
 * (byte arrays as hex, no BigInt), because the page reports it through the DOM.
 */
import type * as Core from '../../src/core.js';
import { eth, ip4l4, tcp, udp } from '../runtime-packets.js';

export type CoreModule = typeof Core;
export type FetchBytes = (fixture: string) => Promise<Uint8Array>;

export interface ProgramReport {
  /** the runtime's engine kind ('jit' unless the JIT is not used) */
  engine: string;
  /** whether the engine is tsbpf's JitEngine (eBPF compiled to WebAssembly) */
  jitEngine: boolean;
  /** size of the program's WebAssembly module, in bytes (0 when not JIT-compiled) */
  wasmBytes: number;
  /** whether the verifier ran (the program has a verifier log) */
  verified: boolean;
}

export interface ScenarioResult {
  firewall: {
    program: ProgramReport;
    programs: string[];
    maps: string[];
    /** retval of each run, in order */
    runs: Array<{ packet: string; retval: number; dataOut: string }>;
    /** proto_count entries with a non-zero count, key -> value hex */
    protoCount: Record<string, string>;
    blocklist: Record<string, string>;
    /** the same runs on the reference interpreter, for a JIT/interpreter agreement check in place */
    interpreterRetvals: number[];
  };
  bpf2bpf: {
    program: ProgramReport;
    runs: Array<{ prog: string; len: number; retval: number }>;
  };
  /** tracer_ringbuf.o: events from a tracepoint and a kprobe program, read from the ring by the host */
  ringbuf: { events: Array<{ pid: number; source: number; ts: string; comm: string }>; viaAsyncIterator: string; lost: number };
  /** a program whose WebAssembly module is well over 4 KB (Chromium's main-thread limit for synchronous compilation) */
  large: { program: ProgramReport; insns: number; retval: number };
  rejection: {
    name: string;
    isVerifierError: boolean;
    isTsbpfError: boolean;
    errno: string;
    message: string;
    kernelMessage: string;
    insnIndex: number;
    logHasMessage: boolean;
  } | { unexpected: string };
}

/** add/xor pairs in the large program */
export const LARGE_STEPS = 2000;

const hex = (b: Uint8Array | undefined): string => (b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : '');

function report(core: CoreModule, rt: Core.Runtime, p: Core.Program): ProgramReport {
  const exe = p.executable as { compiled?: { bytes?: Uint8Array } };
  return {
    engine: rt.engine.kind,
    jitEngine: rt.engine instanceof core.JitEngine,
    wasmBytes: exe.compiled?.bytes?.length ?? 0,
    verified: typeof p.verifierLog === 'string',
  };
}

/** The packets of runtime-load.test.ts's xdp_firewall test, plus a non-IP and a truncated one. */
function packets(): Array<[string, Uint8Array]> {
  return [
    ['udp from 10.9.9.9', eth(0x0800, ip4l4({ src: [10, 9, 9, 9] }, 17, udp(1, 2)))],
    ['tcp from 10.1.2.3', eth(0x0800, ip4l4({ src: [10, 1, 2, 3] }, 6, tcp(1, 2)))],
    ['arp', eth(0x0806, new Uint8Array(28))],
    ['ipv4, header cut short', eth(0x0800, new Uint8Array(10))],
  ];
}

export async function runScenario(core: CoreModule, fetchBytes: FetchBytes): Promise<ScenarioResult> {
  // xdp_firewall.o: hash + array maps, verifier, JIT, host-side map access.
  const fwSpec = core.readObject(await fetchBytes('xdp_firewall.o'));
  const rt = new core.Runtime();
  const c = await rt.load(fwSpec);
  const fw = c.program('xdp_firewall');
  const pk = packets();
  const runs: ScenarioResult['firewall']['runs'] = [];
  const runOne = (name: string, data: Uint8Array, repeat?: number): void => {
    const r = fw.run(repeat ? { data, repeat } : { data });
    runs.push({ packet: repeat ? `${name} x${repeat}` : name, retval: r.retval, dataOut: hex(r.data) });
  };
  for (const [name, data] of pk) runOne(name, data);
  runOne(pk[1]![0], pk[1]![1], 3);
  c.map('blocklist').set(Uint8Array.of(10, 1, 2, 3), Uint8Array.of(1));
  runOne(`${pk[1]![0]} (blocked)`, pk[1]![1]);
  const protoCount: Record<string, string> = {};
  for (const [k, v] of c.map('proto_count').entries()) {
    const bytes = v as Uint8Array;
    if (bytes.some((x) => x !== 0)) protoCount[hex(k)] = hex(bytes);
  }
  const blocklist: Record<string, string> = {};
  for (const [k, v] of c.map('blocklist').entries()) blocklist[hex(k)] = hex(v as Uint8Array);

  const irt = new core.Runtime({ engine: 'interpreter' });
  const ic = await irt.load(fwSpec);
  ic.map('blocklist').set(Uint8Array.of(10, 1, 2, 3), Uint8Array.of(1));
  const interpreterRetvals = pk.map(([, data]) => ic.program('xdp_firewall').run({ data }).retval);
  irt.close();

  const firewall: ScenarioResult['firewall'] = {
    program: report(core, rt, fw),
    programs: [...c.programs.keys()].sort(),
    maps: [...c.maps.keys()].sort(),
    runs,
    protoCount,
    blocklist,
    interpreterRetvals,
  };

  // bpf2bpf.o: bpf-to-bpf calls become WebAssembly functions.
  const bc = await rt.load(core.readObject(await fetchBytes('bpf2bpf.o')));
  const b2bRuns: ScenarioResult['bpf2bpf']['runs'] = [];
  for (const prog of ['calls_all', 'calls_mix']) {
    for (const len of [14, 15, 64, 99]) b2bRuns.push({ prog, len, retval: bc.program(prog).run({ data: new Uint8Array(len) }).retval });
  }
  const bpf2bpf = { program: report(core, rt, bc.program('calls_all')), runs: b2bRuns };

  // tracer_ringbuf.o: ring buffer records, with a fixed clock and task identity.
  const trt = new core.Runtime({ clock: new core.ManualClock(123_456_789n), identity: { pid: 4242, tgid: 4240, uid: 0, gid: 0, comm: 'nginx' } });
  const tc = await trt.load(core.readObject(await fetchBytes('tracer_ringbuf.o')));
  const reader = new core.RingBufReader(tc.map('events') as Core.RingBuf);
  tc.program('trace_openat').run({ ctx: new Uint8Array(64) });
  // The first record through the async iterator (records are already there: it must not wait).
  const first = await reader[Symbol.asyncIterator]().next();
  tc.program('kprobe_openat').run({});
  const recs: Uint8Array[] = [];
  reader.consume((e) => recs.push(e.slice()));
  const decode = (e: Uint8Array): { pid: number; source: number; ts: string; comm: string } => {
    const dv = new DataView(e.buffer, e.byteOffset, e.byteLength);
    return { pid: dv.getUint32(0, true), source: dv.getUint32(4, true), ts: dv.getBigUint64(8, true).toString(), comm: new TextDecoder('latin1').decode(e.subarray(16, 32)).replace(/\0+$/, '') };
  };
  const ringbuf = { events: recs.map(decode), viaAsyncIterator: first.done ? '' : JSON.stringify(decode(first.value)), lost: reader.lost };
  reader.close();
  trt.close();

  // A long program: real ones (thousands of instructions) compile to modules
  // far larger than the 4 KB Chromium lets the main thread compile synchronously.
  const body = Array.from({ length: LARGE_STEPS }, (_, i) => `r0 += ${i + 1}\nr0 ^= ${(i * 7919) & 0xffff}`).join('\n');
  const large = await rt.loadProgram({ type: 'xdp', name: 'large', insns: core.assemble(`r0 = 0\n${body}\nexit`) });
  const largeReport = { program: report(core, rt, large), insns: large.insns.length, retval: large.run({ data: new Uint8Array(64) }).retval };

  // A program the verifier must refuse: a packet read without a bounds check.
  let rejection: ScenarioResult['rejection'];
  try {
    await rt.loadProgram({ type: 'xdp', name: 'unchecked', insns: core.assemble('r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nexit') });
    rejection = { unexpected: 'the verifier accepted an unchecked packet read' };
  } catch (e) {
    if (e instanceof core.TsbpfError) {
      const v = e instanceof core.VerifierError ? e : undefined;
      rejection = {
        name: e.name,
        isVerifierError: v !== undefined,
        isTsbpfError: true,
        errno: e.errno,
        message: e.message,
        kernelMessage: v?.kernelMessage ?? '',
        insnIndex: v?.insnIndex ?? -1,
        logHasMessage: v !== undefined && v.kernelMessage !== '' && v.log.includes(v.kernelMessage),
      };
    } else rejection = { unexpected: String(e instanceof Error ? e.stack ?? e : e) };
  }
  rt.close();
  return { firewall, bpf2bpf, ringbuf, large: largeReport, rejection };
}
