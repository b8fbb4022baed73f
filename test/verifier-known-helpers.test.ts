/**
 * Helpers the verifier knows but tsbpf does not run, and the program types
 * tsbpf verifies but has no hook for (src/verifier/helper-protos.ts,
 * func-compat.ts, progtypes/{sock-addr,sock,sysctl,lwt,device}.ts): verify()
 * gives a verdict; a Runtime refuses to load such a helper call with
 * ENOTSUPP naming it, and loads such a program type but refuses to run it
 * as Linux's BPF_PROG_TEST_RUN does (ENOTSUPP). The kernel-recorded verdicts
 * are in test/verifier-corpus/{helper-protos-known,ctx-sock-addr,ctx-sock,
 * ctx-sysctl,ctx-lwt,ctx-cgroup-dev}.txt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../src/isa/index.js';
import { Runtime } from '../src/runtime/index.js';
import { verify, HELPER_PROTOS } from '../src/verifier/index.js';
import { defaultHelpers } from '../src/helpers/index.js';
import { TsbpfError } from '../src/errors.js';

const GET_STACK = assemble('r2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall 67\nr0 = 0\nexit');

test('bpf_get_stack: verify() judges the call; a Runtime refuses it with ENOTSUPP naming the helper', async () => {
  assert.equal(defaultHelpers().has(67), false, 'the test assumes tsbpf does not implement bpf_get_stack');
  assert.equal(HELPER_PROTOS.get(67)?.name, 'get_stack');
  assert.equal(verify({ insns: GET_STACK, progType: 'kprobe' }).ok, true);
  // a size larger than the buffer is refused by the prototype's checks
  const tooBig = assemble('r2 = r10\nr2 += -64\nr3 = 72\nr4 = 0\ncall 67\nr0 = 0\nexit');
  assert.equal(verify({ insns: tooBig, progType: 'kprobe' }).ok, false);
  // and the program types that may not call it
  const xdp = verify({ insns: GET_STACK, progType: 'xdp' });
  assert.equal(xdp.ok, false);
  assert.match(xdp.log, /cannot use helper bpf_get_stack#67/);

  const rt = new Runtime();
  await assert.rejects(rt.loadProgram({ type: 'kprobe', insns: GET_STACK }), (e: unknown) => {
    assert.ok(e instanceof TsbpfError);
    assert.equal(e.errno, 'ENOTSUPP');
    // It runs on a modelled kernel only (src/helpers/tracing.ts, registered by the test kit).
    assert.match(e.message, /helper bpf_get_stack#67 is not enabled in this runtime: call new TestKit\(\) from 'tsbpf\/testing'/);
    return true;
  });
  rt.close();
});

test('an id no prototype names is still an unknown helper', () => {
  // 212 is past Linux's last helper (__BPF_FUNC_MAX_ID; 211 is cgrp_storage_delete)
  const r = verify({ insns: assemble('call 212\nr0 = 0\nexit'), progType: 'kprobe' });
  assert.equal(r.ok, false);
  assert.equal(r.error?.errno, 'EINVAL');
  assert.match(r.log, /invalid func unknown#212/);
});

test('get_stack bounds R0 by its size argument (do_refine_retval_range)', () => {
  const branch = (bound: number) => assemble(`r2 = r10\nr2 += -64\nr3 = 64\nr4 = 0\ncall 67\nif r0 s> ${bound} goto +2\nr0 = 0\nexit\nr0 = r9\nexit`);
  assert.equal(verify({ insns: branch(64), progType: 'kprobe' }).ok, true);
  assert.equal(verify({ insns: branch(63), progType: 'kprobe' }).ok, false);
});

test('cgroup sock_addr: the return range follows the hook', () => {
  const ret = (v: number) => assemble(`r0 = ${v}\nexit`);
  const ok = (v: number, attachType: string) => verify({ insns: ret(v), progType: 'cgroup_sock_addr', attachType }).ok;
  assert.equal(ok(1, 'cgroup_inet4_connect'), true);
  assert.equal(ok(2, 'cgroup_inet4_connect'), false);
  assert.equal(ok(3, 'cgroup_inet6_bind'), true);
  assert.equal(ok(4, 'cgroup_inet6_bind'), false);
  assert.equal(ok(0, 'cgroup_udp4_recvmsg'), false);
  assert.equal(ok(1, 'cgroup_udp4_recvmsg'), true);
});

test('cgroup sock_addr: ctx->sk is a socket (PTR_TO_SOCKET): its fields read, never written or moved', () => {
  const v = (src: string) => verify({ insns: assemble(src), progType: 'cgroup_sock_addr', attachType: 'cgroup_inet4_connect', logLevel: 2 });
  const read = v('r2 = *(u64 *)(r1 +64)\nr0 = *(u32 *)(r2 +4)\nr0 = 1\nexit');
  assert.equal(read.ok, true, read.log);
  assert.match(read.log, /R2=sock\(\)/);
  const write = v('r2 = *(u64 *)(r1 +64)\n*(u32 *)(r2 +4) = 0\nr0 = 1\nexit');
  assert.equal(write.error?.kernelMessage, 'R2 cannot write into sock');
  const moved = v('r2 = *(u64 *)(r1 +64)\nr2 += 4\nr0 = 1\nexit');
  assert.equal(moved.error?.kernelMessage, 'R2 pointer arithmetic on sock prohibited');
});

test('program types without a hook load verified in a Runtime and refuse to run (ENOTSUPP)', async () => {
  const rt = new Runtime();
  for (const [type, attach, src] of [
    ['cgroup_sock_addr', 'cgroup_inet4_connect', 'r2 = *(u32 *)(r1 +4)\nr0 = 1\nexit'],
    ['cgroup_sock', 'cgroup_inet_sock_create', 'r2 = *(u32 *)(r1 +4)\nr0 = 1\nexit'],
    ['cgroup_sysctl', 'cgroup_sysctl', 'r2 = *(u32 *)(r1 +0)\nr0 = 1\nexit'],
    ['cgroup_device', 'cgroup_device', 'r0 = *(u32 *)(r1 +8)\nr0 &= 1\nexit'],
  ] as const) {
    const p = await rt.loadProgram({ type, expectedAttachType: attach, insns: assemble(src) });
    assert.throws(() => p.run({ data: new Uint8Array(16) }), (e: unknown) => e instanceof TsbpfError && e.errno === 'ENOTSUPP', type);
    // and the verifier ran: a bad context access is refused at load
    await assert.rejects(rt.loadProgram({ type, expectedAttachType: attach, insns: assemble('r2 = *(u32 *)(r1 +200)\nr0 = 1\nexit') }), type);
  }
  rt.close();
});
