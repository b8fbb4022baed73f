/**
 * `npm run bench -- btf`: BTF work against baselines measured in the same run:
 *   - parsing the kernel's BTF (/sys/kernel/btf/vmlinux, else the fixture
 *     BTF repeated) vs a bare DataView walk reading every u32 of the blob
 *     (the least any parser must do), then the first name lookup (which
 *     builds the name index) and the first CO-RE candidate lookup;
 *   - the same in a fresh Node process, as each CLI call pays it (file read
 *     included), and `tsbpf prog load` of a small CO-RE object with and
 *     without `--kernel-btf`;
 *   - the raw and C dumps of that BTF vs `bpftool btf dump` on the same file
 *     (when bpftool is installed; includes its process start-up);
 *   - decoding and encoding a 128-byte struct value through its BTF vs
 *     hand-written DataView code for the same fields.
 */
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Btf, dumpRaw, dumpC, decodeValue, encodeValue, loadBtfFile, type BtfValue } from '../src/object/btf/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = here.includes('/dist/') ? resolve(here, '../..') : resolve(here, '..');

function best(runs: number, fn: () => void): number {
  let b = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    b = Math.min(b, performance.now() - t0);
  }
  return b;
}

export async function main(): Promise<void> {
  const rows: Array<[string, string, string, string]> = [];
  const VMLINUX = '/sys/kernel/btf/vmlinux';
  const fixture = loadBtfFile(new Uint8Array(readFileSync(resolve(ROOT, 'test/fixtures-btf/kinds.o'))));
  const blob = existsSync(VMLINUX) ? new Uint8Array(readFileSync(VMLINUX)) : fixture.encode();
  const what = existsSync(VMLINUX) ? `vmlinux BTF (${(blob.length / 1e6).toFixed(1)} MB)` : 'fixture BTF';
  let sink = 0;
  let btf!: Btf;
  const tParse = best(3, () => {
    btf = Btf.parse(blob);
  });
  const tScan = best(3, () => {
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    for (let p = 0; p + 4 <= blob.length; p += 4) sink ^= dv.getUint32(p, true);
  });
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  rows.push([`parse ${what}, ${btf.length} types`, ms(tParse), ms(tScan), `${(tParse / tScan).toFixed(1)}x a u32 scan`]);
  const tLookups = best(3, () => {
    const b = Btf.parse(blob);
    sink += b.idsByName('task_struct').length + b.idsByEssentialName('sock').length;
  });
  rows.push([`parse + first lookups by name and essential name`, ms(tLookups), ms(tScan), `${(tLookups / tScan).toFixed(1)}x a u32 scan`]);
  if (existsSync(VMLINUX)) {
    // a fresh process: what one CLI call pays (read + parse + index, cold JIT)
    // CPU time (user + system), which a loaded machine inflates less than wall time
    const child = `const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
      const { readBtfPath } = await import(${JSON.stringify(resolve(ROOT, 'dist/src/cli/btf-input.js'))});
      const t1 = cpu();
      const b = readBtfPath(${JSON.stringify(VMLINUX)});
      const t2 = cpu();
      b.idsByEssentialName('task_struct'); b.idsByName('sock');
      const t3 = cpu();
      console.log(JSON.stringify([t2 - t1, t3 - t2]));`;
    let rp = Infinity;
    let ix = Infinity;
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
      const [a, b] = JSON.parse(r.stdout) as [number, number];
      rp = Math.min(rp, a);
      ix = Math.min(ix, b);
    }
    rows.push([`fresh process: read + parse ${VMLINUX} (CPU)`, ms(rp), '-', '']);
    rows.push([`fresh process: first lookups, building both name indexes (CPU)`, ms(ix), '-', '']);
    const obj = resolve(ROOT, 'test/real-progs/btf_current_task.o');
    if (existsSync(obj)) {
      const cli = (extra: string[]): number =>
        best(3, () => {
          sink += spawnSync(process.execPath, [resolve(ROOT, 'bin/tsbpf'), 'prog', 'load', obj, ...extra]).status ?? 0;
        });
      const withBtf = cli(['--kernel-btf', VMLINUX]);
      const without = cli([]);
      rows.push([`tsbpf prog load btf_current_task.o --kernel-btf (process)`, ms(withBtf), ms(without), `+${ms(withBtf - without)} for the kernel BTF`]);
    }
  }
  const hasBpftool = spawnSync('sh', ['-c', 'command -v bpftool']).status === 0 && existsSync(VMLINUX);
  for (const [label, fn, args] of [
    ['dump raw', () => dumpRaw(btf), ['btf', 'dump', 'file', VMLINUX]],
    ['dump format c', () => dumpC(btf), ['btf', 'dump', 'file', VMLINUX, 'format', 'c']],
  ] as const) {
    const ours = best(3, () => {
      sink += fn().length;
    });
    if (hasBpftool) {
      const theirs = best(3, () => {
        sink += spawnSync('bpftool', args as unknown as string[], { maxBuffer: 256 << 20 }).stdout.length;
      });
      rows.push([`${label} (${what})`, ms(ours), ms(theirs), `${(ours / theirs).toFixed(2)}x bpftool`]);
    } else rows.push([`${label} (${what})`, ms(ours), '-', 'bpftool not installed']);
  }

  const vid = fixture.typeByName('mixed', 'struct')!.id;
  const value: BtfValue = {
    count: 5n, small: -5, col: 'BLUE', ng: 'NEG_A', big: 7,
    fl: { a: 5, b: 17, c: -3, d: 123456789n, e: true, name: 'hi' },
    u: { w: 1 }, op: 0n, matrix: [[1, 2, 3], [4, 5, 6]], name: 'abc', b: true, mac: [1, 2, 3, 4, 5, 6], sll: -9n, wide: 1n,
  };
  const bytes = encodeValue(fixture, vid, value);
  const N = 20_000;
  const tDec = best(3, () => {
    for (let i = 0; i < N; i++) sink += (decodeValue(fixture, vid, bytes) as { small: number }).small;
  });
  const dv = new DataView(bytes.buffer);
  const tDecBase = best(3, () => {
    for (let i = 0; i < N; i++) {
      const o = {
        count: dv.getBigUint64(0, true), small: dv.getInt8(8), col: dv.getUint32(12, true), ng: dv.getInt32(16, true), big: dv.getBigUint64(24, true),
        fl: { a: bytes[32]! & 7, b: bytes[32]! >> 3, name: String.fromCharCode(...bytes.subarray(40, 42)) },
        u: { w: dv.getUint32(48, true) }, op: dv.getBigUint64(56, true),
        matrix: [[dv.getInt32(64, true), dv.getInt32(68, true), dv.getInt32(72, true)], [dv.getInt32(76, true), dv.getInt32(80, true), dv.getInt32(84, true)]],
        name: String.fromCharCode(...bytes.subarray(88, 91)), b: bytes[96] !== 0, mac: Array.from(bytes.subarray(97, 103)), sll: dv.getBigInt64(104, true), wide: dv.getBigUint64(112, true),
      };
      sink += o.small;
    }
  });
  rows.push(['decodeValue, 128-byte struct (14 fields, bitfields, nested)', `${((N / tDec) * 1000 / 1e3).toFixed(0)} k/s`, `${((N / tDecBase) * 1000 / 1e3).toFixed(0)} k/s`, `${(tDec / tDecBase).toFixed(1)}x slower than hand-written DataView`]);
  const tEnc = best(3, () => {
    for (let i = 0; i < N; i++) sink += encodeValue(fixture, vid, value).length;
  });
  const tEncBase = best(3, () => {
    for (let i = 0; i < N; i++) {
      const b = new Uint8Array(128);
      const d = new DataView(b.buffer);
      d.setBigUint64(0, 5n, true); d.setInt8(8, -5); d.setUint32(12, 10, true); d.setInt32(16, -3, true); d.setBigUint64(24, 7n, true);
      b[32] = 5 | (17 << 3); b[40] = 104; b[41] = 105; d.setUint32(48, 1, true); d.setBigUint64(56, 0n, true);
      for (let k = 0; k < 6; k++) d.setInt32(64 + 4 * k, k + 1, true);
      b[88] = 97; b[89] = 98; b[90] = 99; b[96] = 1; b.set([1, 2, 3, 4, 5, 6], 97); d.setBigInt64(104, -9n, true); d.setBigUint64(112, 1n, true);
      sink += b.length;
    }
  });
  rows.push(['encodeValue, same struct', `${((N / tEnc) * 1000 / 1e3).toFixed(0)} k/s`, `${((N / tEncBase) * 1000 / 1e3).toFixed(0)} k/s`, `${(tEnc / tEncBase).toFixed(1)}x slower than hand-written DataView`]);

  console.log('\nbtf: parsing, dumping and the value codec (best of 3)');
  const w = [Math.max(...rows.map((r) => r[0].length)), 12, 12];
  console.log(`${'operation'.padEnd(w[0]!)}  ${'tsbpf'.padStart(w[1]!)}  ${'baseline'.padStart(w[2]!)}  ratio`);
  for (const r of rows) console.log(`${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2].padStart(w[2]!)}  ${r[3]}`);
  if (sink === 0.5) console.log('');
}
