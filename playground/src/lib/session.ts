/**
 * What the page does with tsbpf, without the page: load a collection into a
 * fresh Runtime (the verifier at log level 2, then the JIT), report the
 * verdict, run a packet through the chosen program, read and edit maps,
 * and open a step debugger over the interpreter on the same program, maps
 * and address space. All of it on `tsbpf/core` only, so it runs in the
 * browser and (for test/playground-session.test.ts) in Node.
 */
import {
  Debugger, Interpreter, RingBuf, RingBufReader, Runtime, RunState, TsbpfError, VerifierError, dumpJited, prepareXdp,
  type BpfMap, type Collection, type CollectionSpec, type PreparedRun, type Program, type TestRunResult,
} from '../../../src/core.js';
import { parseVerifierLog, type InsnVisit } from './verifier-log.js';
import { leUint, parseHex, toHex } from './hex.js';
import type { MapEdit } from './url-state.js';

export interface Verdict {
  ok: boolean;
  /** the program the verdict is about */
  program: string;
  log: string;
  /** per instruction, the verifier's states (from the level-2 log) */
  visits: Map<number, InsnVisit[]>;
  error?: VerifierError;
  /** a refusal that is not the verifier's (EINVAL from the loader, ...) */
  message?: string;
}

export interface MapSnapshot {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  /** [key hex, value hex]; zero-valued array slots are left out */
  entries: Array<[string, string]>;
  /** ring buffer records read after a run, as hex */
  records?: string[];
  note?: string;
}

export interface RunOutcome {
  result: TestRunResult;
  before: MapSnapshot[];
  after: MapSnapshot[];
}

/** XDP's return codes (enum xdp_action). */
export const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

export class Session {
  private rt: Runtime | undefined;
  private coll: Collection | undefined;
  private readers = new Map<string, RingBufReader>();

  /** Load `spec` and report the verdict on `program`. The previous runtime is closed. */
  async load(spec: CollectionSpec, program: string): Promise<Verdict> {
    this.close();
    const rt = new Runtime({ numCpus: 1 });
    this.rt = rt;
    try {
      this.coll = await rt.load(spec, { logLevel: 2 });
      const prog = this.coll.program(program);
      for (const [name, m] of this.coll.maps) if (m instanceof RingBuf) this.readers.set(name, new RingBufReader(m));
      const log = prog.verifierLog ?? '';
      return { ok: true, program, log, visits: parseVerifierLog(log) };
    } catch (e) {
      if (!(e instanceof TsbpfError)) throw e;
      // The first program that failed stops the load: say which one, with its own log.
      let failed = program;
      if (e instanceof VerifierError) {
        for (const name of spec.programs.keys()) {
          const probe = new Runtime({ numCpus: 1 });
          try {
            await probe.load(spec, { programs: [name] });
          } catch (e2) {
            if (e2 instanceof VerifierError && e2.log === e.log) { failed = name; break; }
          } finally {
            probe.close();
          }
        }
        return { ok: false, program: failed, log: e.log, visits: parseVerifierLog(e.log), error: e };
      }
      return { ok: false, program, log: '', visits: new Map(), message: `${e.message} (${e.errno})` };
    }
  }

  get loaded(): boolean {
    return this.coll !== undefined;
  }

  program(name: string): Program {
    if (!this.coll) throw new TsbpfError('ENOENT', 'no program is loaded');
    return this.coll.program(name);
  }

  /** Every map's contents. */
  maps(): MapSnapshot[] {
    if (!this.coll) return [];
    return [...this.coll.maps].map(([name, m]) => snapshot(name, m, this.readers.get(name)));
  }

  /** Set (or with no value, delete) one map entry; throws the map's typed error. */
  editMap(edit: MapEdit): void {
    const m = this.coll?.maps.get(edit.map);
    if (!m) throw new TsbpfError('ENOENT', `no map ${edit.map}`);
    const key = parseHex(edit.key);
    if (edit.value === undefined) m.delete(key);
    else m.set(key, parseHex(edit.value));
  }

  /** BPF_PROG_TEST_RUN on `data`, `repeat` times, with the maps before and after. */
  run(program: string, data: Uint8Array, repeat = 1): RunOutcome {
    const prog = this.program(program);
    const before = this.maps();
    const result = prog.run({ data, repeat });
    return { result, before, after: this.maps() };
  }

  /** The WebAssembly module the JIT made for the program, as text. */
  wat(program: string): string {
    return dumpJited(this.program(program).executable.image);
  }

  /** A step debugger on the program, over the interpreter, on an XDP test-run context for `data`. */
  debug(program: string, data: Uint8Array): DebugSession {
    const prog = this.program(program);
    if (prog.type !== 'xdp') throw new TsbpfError('ENOTSUPP', `the debugger runs XDP programs; ${prog.name} is ${prog.type}`);
    const env = prog.runtime.testRunEnv();
    const exe = new Interpreter().prepare(prog.executable.image);
    const prep = prepareXdp(env.space, { data }, env.devices, prog.expectedAttachType);
    const state = new RunState(env.host, prog.type, prog.name, prep.ctx, prep.packet, env.scratch);
    return new DebugSession(new Debugger(exe, { args: [BigInt(prep.ctx)], run: state }), prep);
  }

  close(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
    this.coll = undefined;
    this.rt?.close();
    this.rt = undefined;
  }
}

/** A debugger with the test-run context it steps through; `close` gives both back. */
export class DebugSession {
  constructor(
    readonly dbg: Debugger,
    private readonly prep: PreparedRun,
  ) {}
  /** The packet as it is now (the program may have written to it). */
  packetOut(): Uint8Array | undefined {
    return this.prep.finish(Number((this.dbg.lastStop?.r0 ?? 0n) & 0xffffffffn), 0).data;
  }
  close(): void {
    this.dbg.close();
    this.prep.release();
  }
}

function snapshot(name: string, m: BpfMap<unknown>, reader: RingBufReader | undefined): MapSnapshot {
  const s: MapSnapshot = { name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, entries: [] };
  if (reader) {
    s.records = reader.read().map((r) => toHex(r));
    return s;
  }
  if (m.type === 'prog_array') {
    for (const [k, v] of m.entries()) s.entries.push([toHex(k), `program id ${String(v)}`]);
    return s;
  }
  try {
    for (const [k, v] of m.entries()) {
      if (!(v instanceof Uint8Array)) continue;
      if (m.type.includes('array') && isZero(v)) continue;
      s.entries.push([toHex(k), toHex(v)]);
    }
    if (m.type.includes('array')) s.note = 'zero slots not shown';
  } catch (e) {
    s.note = `not listable: ${(e as Error).message}`;
  }
  return s;
}

/** A number for a key or value of 1, 2, 4 or 8 bytes (little-endian), for reading maps at a glance. */
export function asNumber(hex: string): string | undefined {
  try {
    const b = parseHex(hex);
    return [1, 2, 4, 8].includes(b.length) ? leUint(b).toString() : undefined;
  } catch {
    return undefined;
  }
}
