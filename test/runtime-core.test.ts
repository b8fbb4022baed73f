/**
 * CO-RE at load time: Runtime.load applies each program's CO-RE relocations
 * against RuntimeOptions.coreTarget (default: tsbpf's own context types,
 * contextBtf()) before map resolution and verification, as libbpf's
 * bpf_object__relocate_core does against the kernel's BTF.
 *
 * Fixture test/fixtures-btf/core_ctx.c (built by core_ctx.sh, .o committed):
 * xdp_core reads struct xdp_md through a local flavor whose members are in
 * another order and include one the target lacks; task_core reads struct
 * task_struct (tsbpf's shipped types have the kernel's; a target without it
 * poisons the read). Where root and bpftool exist, the
 * kernel (libbpf relocating against vmlinux) runs the same object on the
 * same packets and must return the same values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT } from './paths.js';
import { BPFFS, bpftool, kernelSkipReason } from './runtime-kerneltools.js';
import { loadObjectFile } from '../src/object/file.js';
import { Runtime } from '../src/runtime/index.js';
import { TsbpfError } from '../src/errors.js';
import { VerifierError } from '../src/verifier/error.js';
import { POISON_HELPER_ID } from '../src/object/btf/core.js';
import { contextBtf } from '../src/object/btf/context.js';
import { btfSubset } from '../src/object/btf/subset.js';
import type { CollectionSpec } from '../src/object/spec.js';

const FIX = resolve(ROOT, 'test/fixtures-btf');
const OBJ = join(FIX, 'core_ctx.o');

/** An IPv4/UDP-looking frame of `len` bytes whose first byte is `first`. */
function packet(len: number, first: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (i * 7 + 3) & 0xff;
  p[0] = first;
  return p;
}

/**
 * What xdp_core computes from correctly relocated fields: the packet length,
 * its first byte << 8, ingress_ifindex << 16, field_exists(no_such_field)=0
 * << 20 and field_exists(data_end)=1 << 21 (see core_ctx.c).
 */
const expected = (p: Uint8Array, ifindex: number): number => p.length + (p[0]! << 8) + (ifindex << 16) + (0 << 20) + (1 << 21);

const PACKETS = [packet(62, 0x45), packet(14, 0x01), packet(1500, 0xff)];

async function spec(): Promise<CollectionSpec> {
  return loadObjectFile(OBJ);
}

test('the reader carries the CO-RE records of core_ctx.o', async () => {
  const s = await spec();
  const xdp = s.programs.get('xdp_core')!;
  assert.deepEqual(
    xdp.coreRelos!.map((r) => `${r.insnOff}:${r.kind}:${r.accessStr}`),
    ['0:field_byte_offset:0:2', '1:field_byte_offset:0:1', '11:field_byte_offset:0:0', '14:field_exists:0:3', '17:field_exists:0:1'],
  );
  // the compiled-in offsets are the local flavor's (data 8, data_end 4, ingress_ifindex 0)
  assert.deepEqual([xdp.insns[0]!.off, xdp.insns[1]!.off, xdp.insns[11]!.off, xdp.insns[14]!.imm, xdp.insns[17]!.imm], [8, 4, 0, 1, 1]);
});

for (const mode of [{ verify: 'auto' as const }, { verify: 'structural' as const }]) {
  test(`xdp_core loads relocated to struct xdp_md and runs (verify: ${mode.verify})`, async () => {
    const rt = new Runtime({ ...mode, devices: [{ ifindex: 5, name: 'eth5', rxQueues: 4 }] });
    try {
      const coll = await rt.load(await spec(), { programs: ['xdp_core'] });
      const prog = coll.program('xdp_core');
      // target layout (kernel's struct xdp_md): data 0, data_end 4, ingress_ifindex 12; no_such_field absent
      assert.deepEqual([prog.insns[0]!.off, prog.insns[1]!.off, prog.insns[11]!.off, prog.insns[14]!.imm, prog.insns[17]!.imm], [0, 4, 12, 0, 1]);
      for (const p of PACKETS) assert.equal(prog.run({ data: p }).retval, expected(p, 1), `len ${p.length}`);
      // ingress_ifindex from ctx_in (data_end = the whole packet linear): the relocated load reads the field at 12
      const ctx = new Uint8Array(24);
      new DataView(ctx.buffer).setUint32(4, PACKETS[0]!.length, true);
      new DataView(ctx.buffer).setUint32(12, 5, true);
      assert.equal(prog.run({ data: PACKETS[0], ctx }).retval, expected(PACKETS[0]!, 5));
    } finally {
      rt.close();
    }
  });
}

test('a relocation against a type the target lacks is poisoned, and the verifier refuses it where reached', async () => {
  // a target with pt_regs and no task_struct (cut out of tsbpf's own types)
  const rt = new Runtime({ coreTarget: btfSubset(contextBtf(), ['struct pt_regs']) });
  try {
    // libbpf's bpf_core_poison_insn: insn 0 (pt_regs->di, a type tsbpf has) relocates, insn 1
    // (task_struct->tgid) becomes a call of helper 0xbad2310, which this program reaches
    await assert.rejects(rt.load(await spec(), { programs: ['task_core'] }), (e: unknown) => {
      assert.ok(e instanceof VerifierError, String(e));
      assert.equal(e.errno, 'EINVAL');
      assert.match(e.kernelMessage, /^invalid func unknown#195896080$/);
      assert.equal(e.insnIndex, 1);
      return true;
    });
    // loading the whole object fails the same way
    await assert.rejects(rt.load(await spec()), VerifierError);
  } finally {
    rt.close();
  }
});

test('RuntimeOptions.coreTarget replaces the default target', async () => {
  assert.ok(contextBtf().types.some((t) => t.name === 'xdp_md'));
  // the default target has the recording kernel's struct task_struct (tgid at 1268 on 6.18 x86-64)
  const byDefault = new Runtime({ verify: 'structural' });
  try {
    const insns = (await byDefault.load(await spec(), { programs: ['task_core'] })).program('task_core').insns;
    const offsetOf = (struct: string, field: string): number | undefined => {
      const t = contextBtf().typeByName(struct, 'struct');
      return t?.kind === 'struct' ? t.members.find((m) => m.name === field)!.bitOffset / 8 : undefined;
    };
    // pt_regs.di and task_struct.tgid at the kernel's offsets (112 and 1268 on 6.18 x86-64)
    assert.deepEqual([insns[0]!.off, insns[1]!.imm], [offsetOf('pt_regs', 'di'), offsetOf('task_struct', 'tgid')]);
  } finally {
    byDefault.close();
  }
  // core.o's BTF has no xdp_md: xdp_core cannot relocate against it
  const noXdp = new Runtime({ coreTarget: (await loadObjectFile(join(FIX, 'core.o'))).btf!, verify: 'structural' });
  try {
    const prog = (await noXdp.load(await spec(), { programs: ['xdp_core'] })).program('xdp_core');
    // every xdp_md access is poisoned (structural checks only: the verifier does not judge reachability)
    assert.ok(prog.insns.some((x) => x.code === 0x85 && x.imm === POISON_HELPER_ID));
  } finally {
    noXdp.close();
  }
  // core_ctx.o's own BTF has struct task_struct { int pid; int tgid; } and its one-member pt_regs: task_core now relocates
  const withTask = new Runtime({ coreTarget: (await spec()).btf!, verify: 'structural' });
  try {
    const coll = await withTask.load(await spec(), { programs: ['task_core'] });
    const insns = coll.program('task_core').insns;
    assert.deepEqual([insns[0]!.off, insns[1]!.imm], [0, 4]);
  } finally {
    withTask.close();
  }
});

const skip = kernelSkipReason();
if (skip) console.log(`# runtime-core: kernel comparison skipped: ${skip}`);

test('xdp_core: tsbpf and the kernel (libbpf CO-RE against vmlinux) agree', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-core-'));
  const pin = join(BPFFS, `tsbpf_core_${process.pid}`);
  const rt = new Runtime();
  try {
    const load = bpftool(['prog', 'loadall', OBJ, pin]);
    assert.ok(load.ok, `bpftool prog loadall core_ctx.o: ${JSON.stringify(load.json)}`);
    const prog = (await rt.load(await spec(), { programs: ['xdp_core'] })).program('xdp_core');
    for (const p of PACKETS) {
      const f = join(dir, 'pkt');
      writeFileSync(f, p);
      const k = bpftool(['prog', 'run', 'pinned', join(pin, 'xdp_core'), 'data_in', f, 'repeat', '1']);
      assert.ok(k.ok, `bpftool prog run: ${JSON.stringify(k.json)}`);
      const kr = (k.json as { retval: number }).retval;
      assert.equal(kr, expected(p, 1), `kernel, len ${p.length}`);
      assert.equal(prog.run({ data: p }).retval, kr, `tsbpf vs kernel, len ${p.length}`);
    }
  } finally {
    rt.close();
    rmSync(pin, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
