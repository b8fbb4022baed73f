/**
 * tc's older path (tc-legacy.ts), as root: fixtures/tc_rewrite.o's programs
 * attached as cls_bpf direct-action filters on a clsact qdisc of a veth
 * whose far end is in a network namespace, checked against what `tc filter
 * show` and `tc qdisc show` print; the rewriter on egress must deliver
 * datagrams sent to port 53 at the far end's port 5353; detach removes the
 * filter and the qdisc tsbpf created, but not a qdisc `tc` made. On a kernel
 * with tcx, `{ tc }` without `legacy` takes tcx; with tcx taken as missing
 * (`assumeMissing: ['tcx']`, what a kernel before 6.6 gets) it falls back to
 * the filter by itself. Everything is undone in `finally`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { Cleanup, kernelSkip, sh, udpListener, vethIntoNamespace, which } from './kernel-support.js';
import { FIXTURES } from './paths.js';
import { loadObjectFile } from '../src/object/file.js';
import { KernelRuntime, KernelError } from '../src/kernel/index.js';

const until = async (cond: () => boolean, step: () => void = () => {}, tries = 200): Promise<boolean> => {
  for (let i = 0; i < tries && !cond(); i++) {
    step();
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
};

async function skipReason(): Promise<string | undefined> {
  return (await kernelSkip()) ?? (which('ip') && which('tc') ? undefined : 'iproute2 (ip, tc) is not installed');
}

test('kernel tc (legacy): clsact + cls_bpf direct-action filters, as tc filter show lists them, rewriting real traffic', { timeout: 60_000 }, async (t) => {
  const why = await skipReason();
  if (why) return t.skip(why);
  const undo = new Cleanup();
  const rt = new KernelRuntime();
  undo.add(() => rt.close());
  try {
    const ns = `tsk3-g${process.pid}`;
    const dev = `tsk3-g${process.pid % 100000}`;
    const { there } = vethIntoNamespace(undo, { ns, dev, net: 215 });
    const coll = await rt.load(await loadObjectFile(join(FIXTURES, 'tc_rewrite.o')));
    const rewrite = coll.program('tc_rewrite');
    const count = coll.program('tc_count');
    const out = coll.program('tc_rewrite').attach({ tc: dev, direction: 'egress', legacy: true });
    undo.add(() => out.detach());
    const inn = count.attach({ tc: dev, direction: 'ingress', legacy: true, priority: 7, handle: 3 });
    undo.add(() => inn.detach());
    assert.equal(out.fd, -1, 'a filter is not a bpf_link');
    assert.match(out.target, /^tc egress on ifindex \d+ \(cls_bpf direct-action, pref (\d+) handle 0x1\)$/);
    assert.match(inn.target, /^tc ingress on ifindex \d+ \(cls_bpf direct-action, pref 7 handle 0x3\)$/);
    const pref = Number(/pref (\d+)/.exec(out.target)![1]);
    assert.ok(pref >= 1 && pref <= 0xffff, 'the kernel chose a priority');

    assert.match(sh('tc', ['qdisc', 'show', 'dev', dev]), /^qdisc clsact ffff: parent ffff:fff1/m);
    const egress = sh('tc', ['filter', 'show', 'dev', dev, 'egress']);
    assert.match(egress, new RegExp(`^filter protocol all pref ${pref} bpf chain 0 handle 0x1 tc_rewrite direct-action not_in_hw id ${rewrite.id} name tc_rewrite tag [0-9a-f]{16}`, 'm'), egress);
    const ingress = sh('tc', ['filter', 'show', 'dev', dev, 'ingress']);
    assert.match(ingress, new RegExp(`^filter protocol all pref 7 bpf chain 0 handle 0x3 tc_count direct-action not_in_hw id ${count.id} name tc_count `, 'm'), ingress);

    // the same place twice: the kernel's EEXIST, typed, with its extended-ACK message
    assert.throws(() => count.attach({ tc: dev, direction: 'ingress', legacy: true, priority: 7, handle: 3 }), (e: unknown) => e instanceof KernelError && e.errno === 'EEXIST' && /tc filter add ingress/.test(e.message));
    assert.throws(() => count.attach({ tc: dev, direction: 'sideways' as 'ingress', legacy: true }), /direction is ingress or egress/);

    // the rewriter is live in direct-action mode: datagrams to port 53 arrive at the far end's 5353
    const far = udpListener(undo, ns, 5353);
    assert.ok(await until(() => far.output().includes('listening')), far.output());
    const tx = createSocket('udp4');
    undo.add(() => tx.close());
    assert.ok(await until(() => far.output().includes('got via cls_bpf'), () => tx.send('via cls_bpf', 53, there)), `received on 5353: ${far.output()}`);

    // detach: the filter goes; the qdisc tsbpf made goes with the last filter on it
    out.detach();
    assert.doesNotMatch(sh('tc', ['filter', 'show', 'dev', dev, 'egress']), /tc_rewrite/);
    assert.match(sh('tc', ['qdisc', 'show', 'dev', dev]), /qdisc clsact/, 'still used by the ingress filter');
    inn.detach();
    assert.equal(sh('tc', ['filter', 'show', 'dev', dev, 'ingress']).trim(), '');
    assert.doesNotMatch(sh('tc', ['qdisc', 'show', 'dev', dev]), /clsact/);
    inn.detach(); // idempotent

    // a qdisc made by tc stays after tsbpf's filter on it is detached
    execFileSync('tc', ['qdisc', 'add', 'dev', dev, 'clsact']);
    const again = rewrite.attach({ tc: dev, direction: 'ingress', legacy: true });
    assert.match(sh('tc', ['filter', 'show', 'dev', dev, 'ingress']), /tc_rewrite direct-action/);
    again.detach();
    assert.equal(sh('tc', ['filter', 'show', 'dev', dev, 'ingress']).trim(), '');
    assert.match(sh('tc', ['qdisc', 'show', 'dev', dev]), /qdisc clsact/);
    execFileSync('tc', ['qdisc', 'del', 'dev', dev, 'clsact']);

    // without legacy, a kernel with tcx takes tcx (a bpf_link)
    const tcx = rewrite.attach({ tc: dev, direction: 'ingress' });
    undo.add(() => tcx.detach());
    assert.ok(tcx.fd >= 0 && tcx.target.startsWith('tcx ingress'), tcx.target);
    assert.equal(sh('tc', ['filter', 'show', 'dev', dev, 'ingress']).trim(), '', 'tcx is no cls_bpf filter');

    // the automatic fallback a kernel without tcx takes, forced by treating tcx as missing:
    // `{ tc }` without `legacy` becomes a cls_bpf filter, rewriting live traffic, and detaches cleanly
    tcx.detach();
    const old = new KernelRuntime({ assumeMissing: ['tcx'] });
    undo.add(() => old.close());
    const c2 = await old.load(await loadObjectFile(join(FIXTURES, 'tc_rewrite.o')));
    const fb = c2.program('tc_rewrite').attach({ tc: dev, direction: 'egress' });
    undo.add(() => fb.detach());
    assert.equal(fb.fd, -1, 'the fallback is a filter, not a tcx link');
    assert.match(fb.target, /^tc egress on ifindex \d+ \(cls_bpf direct-action, pref \d+ handle 0x1\)$/);
    assert.match(sh('tc', ['filter', 'show', 'dev', dev, 'egress']), new RegExp(`tc_rewrite direct-action not_in_hw id ${c2.program('tc_rewrite').id} `));
    assert.ok(await until(() => far.output().includes('got via fallback'), () => tx.send('via fallback', 53, there)), `received on 5353: ${far.output()}`);
    fb.detach();
    assert.equal(sh('tc', ['filter', 'show', 'dev', dev, 'egress']).trim(), '');
    assert.doesNotMatch(sh('tc', ['qdisc', 'show', 'dev', dev]), /clsact/, 'the fallback\'s qdisc goes with its filter');
  } finally {
    undo.run();
  }
});
