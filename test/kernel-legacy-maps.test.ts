/**
 * iproute2's map definitions loaded into the running kernel (root): fixtures/elf_maps.o
 * through KernelRuntime with `loader: 'iproute2'`. The outer array_of_maps is
 * created with slot_a as its inner template and holds slot_a in slot 0 and slot_b in
 * slot 3 (iproute2's bpf_maps_attach_all), PIN_GLOBAL_NS pins pinned_counts by name
 * under the pin path (tc's /sys/fs/bpf/tc/globals/NAME when that is the path), and
 * the kernel's verifier accepts the program as tsbpf's does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BPFFS, kernelSkip } from './kernel-support.js';
import { fixturePath } from './object-tools.js';
import { loadObjectFile } from '../src/object/file.js';
import { KernelRuntime } from '../src/kernel/index.js';
import { verify } from '../src/verifier/index.js';
import { inputFromSpec } from '../src/verifier/spec-input.js';

test('kernel: struct bpf_elf_map maps created, wired and pinned as iproute2 does', async (t) => {
  const why = await kernelSkip();
  if (why) return t.skip(why);
  const dir = join(BPFFS, `tsbpf-elfmaps-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const rt = new KernelRuntime({ pinPath: dir });
  try {
    const spec = await loadObjectFile(fixturePath('elf_maps.o'), { loader: 'iproute2' });
    const c = await rt.load(spec);
    const id = (n: string) => c.map(n).id;
    const u32 = (v: number) => Uint8Array.of(v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24);
    // a map-in-map lookup from user space gives the inner map's id
    assert.deepEqual(c.map('outer').get(0), u32(id('slot_a')));
    assert.deepEqual(c.map('outer').get(3), u32(id('slot_b')));
    assert.equal(c.map('outer').get(1), undefined);
    assert.deepEqual(readdirSync(dir), ['pinned_counts']);
    assert.ok(existsSync(join(dir, 'pinned_counts')));
    // the kernel accepted the program (load succeeded); tsbpf's verifier agrees
    assert.ok(c.program('elf_maps').id > 0);
    const res = verify(inputFromSpec(spec, spec.programs.get('elf_maps')!, { privileged: true }));
    assert.equal(res.ok, true, res.error?.message);
  } finally {
    rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
