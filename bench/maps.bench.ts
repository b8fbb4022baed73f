/**
 * `npm run bench -- maps`: host-side map operations per second, each against
 * a plain JavaScript baseline doing the same work in the same run:
 *   - hash set/get with u32 keys and 8-byte values vs a Map<number, Uint8Array>;
 *   - hash lookups the way a helper does them (key bytes in the address space);
 *   - array get (copy) and getView vs an Array of Uint8Array;
 *   - LPM lookups of /32 addresses among 1000 prefixes vs one Map per prefix
 *     length probed from the longest (the usual JS way to do LPM).
 * The kernel is not compared: `bpftool map update` costs a process per
 * operation (~3 ms), which measures process start-up, not the map.
 */
import { AddressSpace } from '../src/memory/address-space.js';
import { createMap, MapTable, type ArrayMap, type HashMap, LpmTrie } from '../src/maps/index.js';
import type { MapSpec, MapTypeName } from '../src/object/spec.js';

function spec(type: MapTypeName, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: `bench_${type}`, type, keySize, valueSize, maxEntries, flags, pinning: 'none' };
}

/** Ops per second of `fn(i)` over `n` iterations, best of 3 runs. */
function rate(n: number, fn: (i: number) => void): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    best = Math.min(best, performance.now() - t0);
  }
  return (n / best) * 1000;
}

export async function main(): Promise<void> {
  const space = new AddressSpace({ initialPages: 256 });
  const ctx = { space, numCpus: 1, table: new MapTable() };
  const N = 100_000;
  const rows: Array<[string, number, number, string]> = [];
  const val = new Uint8Array(8).fill(7);
  let sink = 0;

  const h = createMap(spec('hash', 4, 8, 1 << 17), ctx) as HashMap;
  const jm = new Map<number, Uint8Array>();
  rows.push(['hash set (u32 key, 8-byte value)', rate(N, (i) => h.set(i, val)), rate(N, (i) => jm.set(i, val.slice())), 'Map.set(number, copy)']);
  rows.push(['hash get (copy)', rate(N, (i) => { sink += h.get(i)!.length; }), rate(N, (i) => { sink += jm.get(i)!.slice().length; }), 'Map.get + copy']);
  const keyAddr = space.alloc(8);
  const u8 = space.u8;
  rows.push([
    'hash lookupElem (helper path, key in memory)',
    rate(N, (i) => {
      // what a program's stack store would have done (no allocation happens during lookups)
      u8[keyAddr] = i & 255;
      u8[keyAddr + 1] = (i >>> 8) & 255;
      u8[keyAddr + 2] = (i >>> 16) & 255;
      sink += h.lookupElem(keyAddr, 0);
    }),
    rate(N, (i) => {
      u8[keyAddr] = i & 255;
      u8[keyAddr + 1] = (i >>> 8) & 255;
      u8[keyAddr + 2] = (i >>> 16) & 255;
      sink += jm.get(u8[keyAddr]! | (u8[keyAddr + 1]! << 8) | (u8[keyAddr + 2]! << 16))!.length;
    }),
    'Map.get(key read from memory)',
  ]);

  const a = createMap(spec('array', 4, 8, N), ctx) as ArrayMap;
  const ja: Uint8Array[] = Array.from({ length: N }, () => new Uint8Array(8));
  rows.push(['array set', rate(N, (i) => a.set(i, val)), rate(N, (i) => ja[i]!.set(val)), 'Uint8Array[i].set']);
  rows.push(['array get (copy)', rate(N, (i) => { sink += a.get(i)!.length; }), rate(N, (i) => { sink += ja[i]!.slice().length; }), 'Uint8Array[i].slice']);
  rows.push(['array getView (no copy)', rate(N, (i) => { sink += a.getView(i)!.length; }), rate(N, (i) => { sink += ja[i]!.length; }), 'Uint8Array[i]']);

  const l = createMap(spec('lpm_trie', 8, 4, 2000, 1), ctx) as LpmTrie;
  const byLen: Array<Map<number, number>> = Array.from({ length: 33 }, () => new Map());
  let x = 1;
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 1000; i++) {
    const len = 8 + (rnd() % 25);
    const addr = rnd() & (len === 32 ? 0xffffffff : ~(0xffffffff >>> len));
    l.set(LpmTrie.key(len, [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255]), i);
    byLen[len]!.set(addr >>> 0, i);
  }
  const queries = Array.from({ length: 4096 }, () => rnd());
  const qkeys = queries.map((q) => LpmTrie.key(32, [q >>> 24, (q >>> 16) & 255, (q >>> 8) & 255, q & 255]));
  rows.push([
    'lpm_trie lookup (/32 among 1000 prefixes)',
    rate(N, (i) => {
      sink += l.get(qkeys[i & 4095]!)?.length ?? 0;
    }),
    rate(N, (i) => {
      const q = queries[i & 4095]!;
      for (let len = 32; len >= 0; len--) {
        const v = byLen[len]!.get((len === 0 ? 0 : q & ~(0xffffffff >>> len)) >>> 0);
        if (v !== undefined) {
          sink += v;
          break;
        }
      }
    }),
    'Map per prefix length',
  ]);

  const fmt = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
  console.log('\nmaps: host-side operations per second (best of 3, N = 100000)');
  console.log(`${'operation'.padEnd(46)} ${'tsbpf ops/s'.padStart(12)} ${'baseline ops/s'.padStart(15)} ${'ratio'.padStart(7)}  baseline`);
  for (const [name, t, b, what] of rows) console.log(`${name.padEnd(46)} ${fmt(t).padStart(12)} ${fmt(b).padStart(15)} ${(t / b).toFixed(2).padStart(7)}  ${what}`);
  if (sink === 42) console.log('');
}
