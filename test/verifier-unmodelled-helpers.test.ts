/**
 * Helpers Linux has but tsbpf's verifier cannot judge (spin locks, timers,
 * dynptrs, sockets, kernel objects: the helper catalog's `unmodelled`,
 * src/uapi/helpers.ts) are refused with ENOTSUPP naming the helper and what
 * is missing, never with "invalid func unknown#N" (a wrong EINVAL verdict).
 * The new prototypes' kernel verdicts are corpus cases
 * (test/verifier-corpus/helper-protos-known.txt, check_mtu onwards).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/index.js';
import { verify, HELPER_PROTOS } from '../src/verifier/index.js';
import { HELPERS } from '../src/uapi/helpers.js';
import { Btf } from '../src/object/btf/index.js';

const UNMODELLED = [...HELPERS.values()].filter((h) => h.unmodelled);

const call = (id: number) => assemble(`r1 = 0\nr2 = 0\ncall ${id}\nr0 = 0\nexit`);

test('a spin lock call is unsupported (ENOTSUPP) and says why', () => {
  const r = verify({ insns: call(93), progType: 'sched_cls' });
  assert.equal(r.ok, false);
  assert.equal(r.error?.errno, 'ENOTSUPP');
  assert.match(r.log, /bpf_spin_lock#93 is not supported by tsbpf: spin locks .* are not modelled/);
  assert.doesNotMatch(r.log, /unknown#/);
});

test('every unmodelled helper is refused with ENOTSUPP, and none is also a prototype', () => {
  // (the filter finds the catalog's unmodelled entries: spin locks are one)
  assert.ok(UNMODELLED.some((h) => h.name === 'spin_lock'));
  for (const { id, name } of UNMODELLED) {
    assert.equal(HELPER_PROTOS.has(id), false, `${name} (#${id}) is both a prototype and unmodelled`);
    const r = verify({ insns: call(id), progType: 'kprobe' });
    assert.equal(r.error?.errno, 'ENOTSUPP', `${name} #${id}: ${r.log}`);
    assert.match(r.log, new RegExp(`bpf_${name}#${id}`));
  }
});

test('check_mtu takes an aligned u32 the helper writes', () => {
  const mtu = (off: number, type: 'xdp' | 'kprobe' = 'xdp') =>
    verify({ insns: assemble(`r3 = r10\nr3 += ${off}\nr2 = 0\nr4 = 0\nr5 = 0\ncall 163\nr0 = 2\nexit`), progType: type });
  assert.equal(mtu(-4).ok, true); // uninitialised is fine: MEM_WRITE
  const mis = mtu(-6);
  assert.equal(mis.ok, false);
  assert.match(mis.log, /misaligned stack access/);
  assert.equal(mtu(-2).ok, false); // 4 bytes from fp-2 run past the frame
  assert.match(mtu(-4, 'kprobe').log, /cannot use helper bpf_check_mtu#163/);
});

test('get_attach_cookie: tracing program types only, with the unmodified context', () => {
  const ok = (src: string, progType: 'kprobe' | 'perf_event' | 'xdp' | 'tracing', attachType?: string) =>
    verify({ insns: assemble(src), progType, attachType }).ok;
  assert.equal(ok('call 174\nr0 = 0\nexit', 'kprobe'), true);
  assert.equal(ok('call 174\nr0 = 0\nexit', 'perf_event'), true);
  assert.equal(ok('call 174\nr0 = 2\nexit', 'xdp'), false);
  assert.equal(ok('r1 += 8\ncall 174\nr0 = 0\nexit', 'kprobe'), false);
});

test('a Runtime refuses the new prototypes (not run by tsbpf) and the unmodelled helpers with ENOTSUPP', async () => {
  const { Runtime } = await import('../src/runtime/index.js');
  const { defaultHelpers } = await import('../src/helpers/index.js');
  const { TsbpfError } = await import('../src/errors.js');
  assert.equal(defaultHelpers().has(163), false, 'the test assumes tsbpf does not run bpf_check_mtu');
  const rt = new Runtime();
  try {
    const mtu = assemble('r3 = r10\nr3 += -4\nr2 = 0\nr4 = 0\nr5 = 0\ncall 163\nr0 = 2\nexit');
    await assert.rejects(rt.loadProgram({ type: 'xdp', insns: mtu }), (e: unknown) =>
      e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_check_mtu#163 is known to the verifier but not implemented/.test(e.message));
    await assert.rejects(rt.loadProgram({ type: 'sched_cls', insns: call(93) }), (e: unknown) =>
      e instanceof TsbpfError && e.errno === 'ENOTSUPP' && /bpf_spin_lock/.test(e.message));
  } finally {
    rt.close();
  }
});

/** A kernel BTF with an int (1), a variable of it (2), a function prototype (3) and a kfunc (4). */
const ksymKernel = Btf.fromTypes([
  { id: 1, kind: 'int', name: 'int', size: 4, bits: 32, offset: 0, encoding: { signed: true, char: false, bool: false } },
  { id: 2, kind: 'var', name: 'runqueues', typeId: 1, linkage: 'global' },
  { id: 3, kind: 'func_proto', name: '', returnTypeId: 1, params: [] },
  { id: 4, kind: 'func', name: 'bpf_some_kfunc', typeId: 3, linkage: 'global' },
]);
/** r1 = the kernel symbol of BTF id `id` (BPF_PSEUDO_BTF_ID: src 3), then `rest` */
const ksymLoad = (id: number, rest: string) => [
  { code: 0x18, dst: 1, src: 3, off: 0, imm: id },
  { code: 0x00, dst: 0, src: 0, off: 0, imm: 0 },
  ...assemble(rest),
];

test('a typed ksym (lddw of a variable\'s BTF id) is unsupported, not a verdict', () => {
  const r = verify({ insns: ksymLoad(2, 'r0 = 0\nexit'), progType: 'kprobe', kernelBtf: ksymKernel });
  assert.equal(r.ok, false);
  assert.equal(r.error?.errno, 'ENOTSUPP');
  assert.match(r.log, /typed __ksym variable\) is not supported by tsbpf/);
});

test('a kfunc\'s BTF id in an lddw is read-only memory of size 0, as __check_pseudo_btf_id types it', () => {
  // bpf_ksym_exists(): the address compared with 0 is accepted
  const ok = verify({ insns: ksymLoad(4, 'r0 = 0\nif r1 == 0 goto +1\nr0 = 1\nexit'), progType: 'kprobe', kernelBtf: ksymKernel });
  assert.equal(ok.ok, true, ok.log);
  // a read through it is past its 0 bytes; a write to it is to read-only memory
  for (const body of ['r0 = *(u8 *)(r1 + 0)\nexit', 'r0 = 0\n*(u8 *)(r1 + 0) = r0\nexit']) {
    const r = verify({ insns: ksymLoad(4, body), progType: 'kprobe', kernelBtf: ksymKernel });
    assert.equal(r.ok, false, body);
    assert.equal(r.error?.errno, 'EACCES', `${body}: ${r.log}`);
  }
  // an id the kernel BTF does not have, or one of another kind: the kernel's refusals
  const none = verify({ insns: ksymLoad(99, 'r0 = 0\nexit'), progType: 'kprobe', kernelBtf: ksymKernel });
  assert.equal(none.error?.errno, 'ENOENT');
  assert.match(none.log, /ldimm64 insn specifies invalid btf_id 99\./);
  const proto = verify({ insns: ksymLoad(3, 'r0 = 0\nexit'), progType: 'kprobe', kernelBtf: ksymKernel });
  assert.equal(proto.error?.errno, 'EINVAL');
  assert.match(proto.log, /pseudo btf_id 3 in ldimm64 isn't KIND_VAR or KIND_FUNC/);
});
