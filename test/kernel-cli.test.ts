/**
 * `tsbpf prog|map|link|btf show` of the kernel's objects against bpftool's
 * own JSON: objects are loaded (and a link attached) by this process with
 * KernelRuntime, then listed by both tools; the fields must be bpftool's,
 * with bpftool's values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BPFFS, Cleanup, kernelSkip, which } from './kernel-support.js';
import { BIN, FIXTURES } from './paths.js';
import { loadObjectFile } from '../src/object/file.js';
import { KernelRuntime } from '../src/kernel/index.js';
import { kernelListing } from '../src/cli/kernel-listing.js';

const json = (cmd: string, args: string[]): unknown => JSON.parse(execFileSync(cmd, args, { encoding: 'utf8' }));
const tsbpf = (...args: string[]): unknown => json(process.execPath, [BIN, ...args]);
const bpftool = (...args: string[]): unknown => json('bpftool', ['-j', ...args]);

test('kernel listings: tsbpf show prints what bpftool show prints', async (t) => {
  const why = (await kernelSkip()) ?? (which('bpftool') ? undefined : 'bpftool is not installed');
  if (why) return t.skip(why);
  const rt = new KernelRuntime();
  const undo = new Cleanup();
  const dir = join(BPFFS, `tsbpf-kcli-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    undo.add(() => rmSync(dir, { recursive: true, force: true }));
    const c = await rt.load(await loadObjectFile(join(FIXTURES, 'xdp_firewall.o')));
    undo.add(() => c.close());
    const p = c.program('xdp_firewall');
    const m = c.map('blocklist');
    m.pin(join(dir, 'blocklist'));
    // programs: through the listing the CLI's `prog show` uses (loaded_at may differ by the second bpftool rounds in)
    const mine = (await (await kernelListing()).programs()).find((x) => x.id === p.id)!;
    const theirs = bpftool('prog', 'show', 'id', String(p.id)) as Record<string, unknown>;
    assert.ok(Math.abs(mine.loaded_at - (theirs.loaded_at as number)) <= 1, 'loaded_at');
    assert.deepEqual({ ...mine, loaded_at: 0 }, { ...theirs, loaded_at: 0 }, 'prog show id');
    // maps by id and by pin, and the whole list
    assert.deepEqual(tsbpf('map', 'show', 'id', String(m.id), '-j'), bpftool('map', 'show', 'id', String(m.id)));
    assert.deepEqual(tsbpf('map', 'show', 'pinned', join(dir, 'blocklist'), '-j'), bpftool('map', 'show', 'pinned', join(dir, 'blocklist')));
    const all = tsbpf('-j', 'map', 'show') as Array<{ id: number }>;
    assert.ok(all.some((x) => x.id === m.id));
    // BTF objects, with the programs and maps that use them
    const btfId = (bpftool('map', 'show', 'id', String(m.id)) as { btf_id: number }).btf_id;
    // (bpftool's prog_ids/map_ids come out of a hash table whose order changes with its size: compared as sets)
    const sorted = (b: { prog_ids: number[]; map_ids: number[] } | undefined): unknown => b && { ...b, prog_ids: [...b.prog_ids].sort(), map_ids: [...b.map_ids].sort() };
    const mineBtf = (tsbpf('btf', 'show', '-j') as Array<{ id: number; prog_ids: number[]; map_ids: number[] }>).find((b) => b.id === btfId);
    const theirBtf = (bpftool('btf', 'show') as Array<{ id: number; prog_ids: number[]; map_ids: number[] }>).find((b) => b.id === btfId);
    assert.deepEqual(sorted(mineBtf), sorted(theirBtf));
    assert.deepEqual(tsbpf('btf', 'show', 'id', '1', '-j'), { ...(bpftool('btf', 'show', 'id', '1') as object), prog_ids: [], map_ids: [] });
    // a link: the fields tsbpf knows have bpftool's values
    const tr = await rt.load(await loadObjectFile(join(FIXTURES, 'tracer_ringbuf.o')), { programs: ['trace_openat'] });
    undo.add(() => tr.close());
    const l = tr.program('trace_openat').attach();
    undo.add(() => l.detach());
    const id = l.info()!.id;
    const ml = tsbpf('link', 'show', 'id', String(id), '-j') as Record<string, unknown>;
    const bl = bpftool('link', 'show', 'id', String(id)) as Record<string, unknown>;
    for (const k of ['id', 'type', 'prog_id']) assert.equal(ml[k], bl[k], `link ${k}`);
    // plain output: bpftool's layout, through the CLI's one formatter per kind (loaded_at may differ by a second)
    const plain = (cmd: string, ...args: string[]): string =>
      execFileSync(cmd, cmd === 'bpftool' ? args : [BIN, ...args], { encoding: 'utf8' }).replace(/loaded_at \S+/, 'loaded_at T');
    assert.equal(plain(process.execPath, 'map', 'show', 'id', String(m.id)), plain('bpftool', 'map', 'show', 'id', String(m.id)));
    assert.equal(plain(process.execPath, 'prog', 'show', 'id', String(p.id)), plain('bpftool', 'prog', 'show', 'id', String(p.id)));
    assert.equal(plain(process.execPath, 'btf', 'show', 'id', String(btfId)), plain('bpftool', 'btf', 'show', 'id', String(btfId)).replace(/ {2}(prog|map)_ids \S+/g, ''));
    const bl0 = plain('bpftool', 'link', 'show', 'id', String(id)).split('\n')[0];
    assert.equal(plain(process.execPath, 'link', 'show', 'id', String(id)).split('\n')[0], bl0);
  } finally {
    undo.run();
    rt.close();
  }
});
