/**
 * The soundness oracle for verifier fuzzing: a program the verifier accepts
 * is run in the interpreter in checked mode (image not marked verified, so
 * every access must fall inside a registered region, with an instruction
 * budget) on several random packets; any VmFault, BudgetExceeded or other
 * execution error is a soundness bug of the verifier.
 *
 * XDP programs get a context whose packet region is exactly [data, data_end)
 * (the test-run frame would also admit reads past data_end into its
 * headroom and tailroom, hiding a missing bounds check); socket filters run
 * through the runtime's test run (they reach the packet only through
 * helpers and LD_ABS, which check at run time).
 */
import { assemble } from '../../src/isa/asm.js';
import type { Insn } from '../../src/isa/insn.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { RunState, testRun } from '../../src/runtime/testrun/run.js';
import { TestRunError } from '../../src/runtime/testrun/types.js';
import type { Executable } from '../../src/vm/engine.js';
import { ExecError } from '../../src/vm/fault.js';
import { verify } from '../../src/verifier/index.js';
import type { BpfMap } from '../../src/maps/map.js';
import { generate, Rng, type GenProgram } from './verifier-gen.js';

export interface FuzzOutcome {
  seed: number;
  program: GenProgram;
  accepted: boolean;
  /** set when an accepted program faulted: the soundness bug */
  bug?: { packet: Uint8Array; error: string; log: string };
}

const BUDGET = 2_000_000;
const XDP_MD_SIZE = 24;

export function expandMaps(src: string): string {
  return src.replace(/\bmap\[(\d+)\]/g, 'map[fd:$1]');
}

/** lddw map references: from map index (for verify) to the runtime's map id (for loading). */
export function withMapIds(insns: readonly Insn[], maps: readonly BpfMap<unknown>[]): Insn[] {
  const out = insns.map((i) => ({ ...i }));
  for (let i = 0; i < out.length; i++) {
    const x = out[i]!;
    if (x.code === 0x18) {
      if (x.src === 1 || x.src === 2) x.imm = maps[x.imm]!.id;
      i++;
    }
  }
  return out;
}

export class VerifierFuzzer {
  readonly rt = new Runtime({ verify: 'structural', engine: 'interpreter', seed: 1 });

  async one(seed: number, packets = 4): Promise<FuzzOutcome> {
    return this.check(generate(seed), seed, packets);
  }

  /**
   * Verify `program`; if accepted (or `force`: run it even when rejected, to
   * show the oracle catches what the verifier should), run it on `packets`
   * random packets in checked mode.
   */
  async check(program: GenProgram, seed: number, packets = 4, force = false): Promise<FuzzOutcome> {
    const insns = assemble(expandMaps(program.source), { dialect: 'kernel' });
    const res = verify({
      insns,
      progType: program.type,
      maps: program.maps.map((m, i) => ({ name: `m${i}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0 })),
      logLevel: 1,
      // The generator's programs are small: a lower budget only rejects more, and keeps runs fast.
      complexityLimit: 200_000,
    });
    const outcome: FuzzOutcome = { seed, program, accepted: res.ok };
    if (!res.ok && !force) return outcome;
    const maps = program.maps.map((m, i) => this.rt.createMap({ name: `m${i}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0, pinning: 'none' }));
    const rng = new Rng(seed ^ 0x5eed);
    try {
      // Some entries present, so lookups of hash maps find values too.
      for (const m of maps) {
        for (let k = 0; k < 3; k++) {
          const key = new Uint8Array(4);
          key[0] = k;
          const value = new Uint8Array(m.valueSize).map(() => rng.int(0, 255));
          try {
            (m as unknown as { update(k: Uint8Array, v: Uint8Array, f?: number): void }).update(key, value, 0);
          } catch {
            /* an array's key out of range: fine */
          }
        }
      }
      const prog = await this.rt.loadProgram({ name: 'fuzz', type: program.type, insns: withMapIds(insns, maps) });
      try {
        const inner = prog.executable;
        if (inner.image.verified) throw new Error('the fuzz image must run in checked mode');
        const exec: Executable = { image: inner.image, run: (a) => inner.run({ ...a, budget: BUDGET }) };
        for (let k = 0; k < packets; k++) {
          const len = program.type === 'xdp' ? rng.pick([0, 1, 13, 14, 20, 34, 42, 60, 64, 100]) : rng.int(14, 100);
          const pkt = new Uint8Array(len).map(() => rng.int(0, 255));
          // The skb test run validates IPv4/IPv6 headers as the kernel's does: an
          // experimental ethertype keeps random bytes from being refused as input.
          if (program.type !== 'xdp' && len >= 14) pkt.set([0x88, 0xb5], 12);
          try {
            if (program.type === 'xdp') this.runXdp(exec, pkt);
            else testRun(this.rt.testRunEnv(), { name: 'fuzz', type: program.type, exec }, { data: pkt });
          } catch (e) {
            if (e instanceof TestRunError) continue; // the input was refused before the program ran
            const error = e instanceof ExecError ? `${e.name}: ${e.message}` : `unexpected ${(e as Error).stack ?? String(e)}`;
            outcome.bug = { packet: pkt, error, log: res.log };
            return outcome;
          }
        }
      } finally {
        prog.close();
      }
    } finally {
      for (const m of maps) m.close();
    }
    return outcome;
  }

  /** An XDP context whose packet region is exactly the packet. */
  private runXdp(exec: Executable, pkt: Uint8Array): void {
    const space = this.rt.space;
    const buf = space.alloc(Math.max(8, pkt.length));
    const ctx = space.alloc(XDP_MD_SIZE);
    const pktRegion = space.addRegion({ base: buf, size: pkt.length, kind: 'packet', name: 'fuzz packet', writable: true });
    const ctxRegion = space.addRegion({ base: ctx, size: XDP_MD_SIZE, kind: 'ctx', name: 'xdp_md', writable: false });
    try {
      space.write(buf, pkt);
      space.writeU32(ctx + 0, buf);
      space.writeU32(ctx + 4, buf + pkt.length);
      space.writeU32(ctx + 8, buf);
      space.writeU32(ctx + 12, 1);
      space.writeU32(ctx + 16, 0);
      space.writeU32(ctx + 20, 0);
      const env = this.rt.testRunEnv();
      const run = new RunState(env.host, 'xdp', 'fuzz', ctx, undefined, env.scratch);
      exec.run({ args: [BigInt(ctx)], cpu: 0, run });
    } finally {
      space.removeRegion(pktRegion);
      space.removeRegion(ctxRegion);
      space.free(buf);
      space.free(ctx);
    }
  }

  close(): void {
    this.rt.close();
  }
}

export interface FuzzSummary {
  seed: number;
  count: number;
  accepted: number;
  bugs: FuzzOutcome[];
  /** programs whose verification threw instead of answering */
  crashes: Array<{ seed: number; error: string; source: string }>;
}

/** Run `count` programs with seeds seed, seed+1, ... */
/** `onProgress(done)` is called after each program (the runner's terminal progress line). */
export async function fuzz(seed: number, count: number, onBug?: (o: FuzzOutcome) => void, onProgress?: (done: number, s: FuzzSummary) => void): Promise<FuzzSummary> {
  const f = new VerifierFuzzer();
  const s: FuzzSummary = { seed, count, accepted: 0, bugs: [], crashes: [] };
  try {
    for (let i = 0; i < count; i++) {
      const ps = (seed + i) >>> 0;
      let o: FuzzOutcome;
      try {
        o = await f.one(ps);
      } catch (e) {
        s.crashes.push({ seed: ps, error: (e as Error).stack ?? String(e), source: generate(ps).source });
        onProgress?.(i + 1, s);
        continue;
      }
      if (o.accepted) s.accepted++;
      if (o.bug) {
        s.bugs.push(o);
        onBug?.(o);
      }
      onProgress?.(i + 1, s);
    }
  } finally {
    f.close();
  }
  return s;
}

export function describeBug(o: FuzzOutcome): string {
  const b = o.bug!;
  return [
    `soundness bug: seed ${o.seed} (${o.program.type}; maps ${o.program.maps.map((m) => `${m.type} value=${m.valueSize}`).join(', ')})`,
    `fault: ${b.error}`,
    `packet (${b.packet.length} bytes): ${Buffer.from(b.packet).toString('hex')}`,
    'program:',
    o.program.source,
    'verifier log (tail):',
    b.log.split('\n').slice(-25).join('\n'),
  ].join('\n');
}
