/** `bpftool prog loadall` for tests that ask the running kernel for a verdict, leaving bpffs as it was. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { readObject } from '../../src/object/reader.js';
import type { CollectionSpec } from '../../src/object/spec.js';

export const BPFFS = '/sys/fs/bpf';

/**
 * Load every program of `path` into the kernel, pinned under a private directory that is removed
 * afterwards. libbpf also pins each LIBBPF_PIN_BY_NAME map at its default pin root
 * (`/sys/fs/bpf/NAME`, bpf_object__load's auto-pinning); those pins are removed too, unless they
 * existed before the load (another user's map that libbpf reused).
 */
export function bpftoolLoadall(path: string, opts: { debug?: boolean; spec?: CollectionSpec } = {}): { status: number; stderr: string; log: string } {
  const pin = `${BPFFS}/tsbpf_loadall_${process.pid}`;
  const fresh = byNamePins(path, opts.spec).filter((p) => !existsSync(p));
  try {
    const r = spawnSync('bpftool', [...(opts.debug ? ['-d'] : []), 'prog', 'loadall', path, pin], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: r.status ?? -1, stderr: r.stderr ?? '', log: (r.stderr ?? '') + (r.stdout ?? '') };
  } finally {
    rmSync(pin, { recursive: true, force: true });
    for (const p of fresh) rmSync(p, { force: true });
  }
}

/** The default-root pin paths libbpf gives the object's by-name maps (none when tsbpf cannot read it). */
function byNamePins(path: string, spec?: CollectionSpec): string[] {
  let s = spec;
  if (!s) {
    try {
      s = readObject(new Uint8Array(readFileSync(path)));
    } catch {
      return [];
    }
  }
  return [...s.maps.values()].filter((m) => m.pinning === 'by_name').map((m) => `${BPFFS}/${m.name}`);
}
