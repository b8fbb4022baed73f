/**
 * The reach of the probe-read helpers (issue 11, finding 3;
 * src/helpers/reach.ts, docs/security.md). With probeReach 'collection'
 * (the default) a program reads through an arbitrary pointer only its own
 * collection's memory, the current run's context and packet, and what hooks
 * hand it; another collection's map reads as a fault (-EFAULT, destination
 * zeroed, %s prints nothing). With 'space' it reads the whole address space,
 * as Linux lets a privileged tracing program read all kernel memory (the
 * helpers are in bpf_base_func_proto for CAP_PERFMON, so XDP has them too).
 * Both engines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, OP_LDDW, BPF_PSEUDO_MAP_FD, type Insn } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import type { BpfMap } from '../src/maps/index.js';
import type { TraceRecord } from '../src/helpers/index.js';

const EFAULT = 14;
const SECRET = new TextEncoder().encode('B-secret-bytes!\0');

/** The address where `m` keeps the value of key 0. */
function valueAddr(m: BpfMap<unknown>): number {
  const v = m.getView(new Uint8Array(4))!;
  return v.byteOffset;
}

/** `lddw r, imm64` with the map's id as a BPF_PSEUDO_MAP_FD reference at the first lddw. */
function withMap(insns: Insn[], id: number): Insn[] {
  for (const i of insns)
    if (i.code === OP_LDDW && i.src === 0 && i.imm === 0x7eadbeef) {
      i.src = BPF_PSEUDO_MAP_FD;
      i.imm = id;
    }
  return insns;
}

/**
 * helper(dst = fp-16, 16, src = addr): r0 = (-ret << 16) | the first two
 * bytes read (zero when the read failed and zeroed the destination). The
 * program also names its own map, which makes that map its collection's.
 */
function reader(helper: number, addr: number | 'ctx' | 'stack' | 'own', ownId: number): Insn[] {
  const src =
    addr === 'ctx' ? 'r3 = r1' :
    addr === 'stack' ? 'r3 = r10\nr3 += -32' :
    addr === 'own' ? 'r3 = r8' :
    `r3 = ${addr} ll`;
  return withMap(assemble(`
    r9 = r1
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    r1 = 0x7265766f
    *(u64 *)(r10 - 32) = r1
    r2 = r10
    r2 += -4
    r1 = 0x7eadbeef ll
    call 1
    if r0 == 0 goto nomap
    r8 = r0
    r1 = r9
    ${src}
    r1 = r10
    r1 += -16
    r2 = 16
    call ${helper}
    r6 = r0
    r7 = *(u16 *)(r10 - 16)
    r0 = 0
    r0 -= r6
    r0 &= 0xffff
    r0 <<= 16
    r0 |= r7
    exit
  nomap:
    r0 = 1
    exit`), ownId);
}

/** bpf_trace_printk("%s", addr): what the trace shows. */
function printer(addr: number): Insn[] {
  return assemble(`
    r1 = 0x7325
    *(u32 *)(r10 - 8) = r1
    r1 = r10
    r1 += -8
    r2 = 4
    r3 = ${addr} ll
    call 6
    r0 = 2
    exit`);
}

const le16 = (b: Uint8Array): number => b[0]! | (b[1]! << 8);

for (const engine of ['jit', 'interpreter'] as const) {
  for (const reach of ['collection', 'space'] as const) {
    test(`${engine}, probeReach ${reach}: collection A reading collection B's map`, async () => {
      const traces: TraceRecord[] = [];
      const rt = new Runtime({ engine, probeReach: reach, trace: (r) => traces.push(r) });
      // B: a collection with an array and a BPF_F_NO_PREALLOC hash (elements allocated as the host inserts them).
      const bArray = rt.createMap({ name: 'b_array', type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, flags: 0, pinning: 'none' });
      const bHash = rt.createMap({ name: 'b_hash', type: 'hash', keySize: 4, valueSize: 16, maxEntries: 8, flags: 1, pinning: 'none' });
      bArray.set(new Uint8Array(4), SECRET);
      bHash.set(new Uint8Array(4), SECRET);
      const bProg = await rt.loadProgram({ name: 'b', type: 'xdp', insns: reader(113, 'own', bArray.id) });
      assert.equal(bProg.run({ data: new Uint8Array(64) }).retval, le16(SECRET), 'B reads its own map');
      // A: its own map, and B's addresses written into its code.
      const aMap = rt.createMap({ name: 'a_map', type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, flags: 0, pinning: 'none' });
      aMap.set(new Uint8Array(4), new TextEncoder().encode('A-own-bytes\0\0\0\0\0'));
      const run = async (helper: number, addr: Parameters<typeof reader>[1]): Promise<number> =>
        (await rt.loadProgram({ name: 'a', type: 'xdp', insns: reader(helper, addr, aMap.id) })).run({ data: new Uint8Array(64) }).retval;
      const refused = (EFAULT << 16) | 0;
      for (const target of [bArray, bHash]) {
        const addr = valueAddr(target);
        for (const helper of [113, 112, 115, 114]) {
          const got = await run(helper, addr);
          if (reach === 'space') assert.equal(got & 0xffff, le16(SECRET), `${target.name}, helper ${helper}: Linux's privileged reach reads it`);
          else assert.equal(got, refused, `${target.name}, helper ${helper}: -EFAULT and a zeroed destination`);
        }
        // The map's descriptor (tsbpf's own structure) too.
        const desc = await run(113, target.addr);
        if (reach === 'collection') assert.equal(desc, refused, `${target.name} descriptor`);
        else assert.equal(desc >>> 16, 0);
        const p = await rt.loadProgram({ name: 'a_print', type: 'xdp', insns: printer(addr) });
        traces.length = 0;
        p.run({ data: new Uint8Array(64) });
        assert.equal(traces[0]?.message, reach === 'space' ? 'B-secret-bytes!' : '', `%s of ${target.name}`);
      }
      // What stays readable in both modes: A's own map, its stack, its context.
      assert.equal(await run(113, 'own'), le16(new TextEncoder().encode('A-')), 'own map');
      assert.equal(await run(113, 'stack'), 0x766f, 'own stack ("ov" of the word stored at fp-32)');
      assert.equal((await run(113, 'ctx')) >>> 16, 0, 'own context');
      assert.equal((await run(115, 'own')) >>> 16, 0x10000 - 12, 'own map as a string: 12 bytes with the NUL');
      rt.close();
    });
  }
}

test('a collection loaded from an object reaches its own global data, not another instance of the same object', async () => {
  const { loadObjectFile } = await import('../src/object/file.js');
  const { FIXTURES } = await import('./paths.js');
  const { join } = await import('node:path');
  const spec = await loadObjectFile(join(FIXTURES, 'xdp_firewall.o'));
  const rt = new Runtime();
  const one = await rt.load(spec);
  const two = await rt.load(spec);
  const m1 = [...one.maps.values()][0]!;
  const m2 = [...two.maps.values()][0]!;
  assert.equal(m1.name, m2.name, 'the same map names in both collections');
  // Region owners tell the two instances apart although their names are the same.
  const r1 = rt.space.regionOf(m1.addr)!;
  const r2 = rt.space.regionOf(m2.addr)!;
  assert.ok(r1.owner && r2.owner && r1.owner !== r2.owner);
  const d1 = (one.programs.values().next().value!.executable.image.owner) as { owns(r: unknown): boolean };
  assert.ok(d1.owns(r1) && !d1.owns(r2));
  rt.close();
});

test('interpreter: a stack block passed to another collection holds none of its leftovers', async () => {
  // Privileged programs may read uninitialised stack (Linux's allow_uninit_stack),
  // so a pooled stack block must not carry one collection's bytes into another's run.
  const rt = new Runtime({ engine: 'interpreter' });
  const writer = await rt.loadProgram({ name: 'w', type: 'xdp', insns: assemble(`
    r1 = 0x5345435245540000 ll
    *(u64 *)(r10 - 8) = r1
    r0 = 2
    exit`) });
  const peek = `
    r0 = *(u64 *)(r10 - 8)
    r0 >>= 32
    exit`;
  const same = await rt.loadProgram({ name: 'same', type: 'xdp', insns: assemble(peek) });
  const other = await rt.loadProgram({ name: 'other', type: 'xdp', insns: assemble(peek) });
  writer.run({ data: new Uint8Array(64) });
  // each loadProgram is a collection of its own: the block comes back zeroed
  assert.equal(other.run({ data: new Uint8Array(64) }).retval, 0);
  writer.run({ data: new Uint8Array(64) });
  assert.equal(same.run({ data: new Uint8Array(64) }).retval, 0);
});
