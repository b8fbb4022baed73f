/**
 * Values of `__kconfig` externs (libbpf's bpf_object__read_kconfig_file and
 * its LINUX_KERNEL_VERSION): the running kernel's config from
 * /proc/config.gz or /boot/config-$(uname -r), and its version code.
 * Tristates are 'y' = 1, 'm' = 2, 'n' / unset = 0 (libbpf's enum
 * libbpf_tristate); numbers as they are; strings are not supported here.
 */
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import type { MapSpec } from '../object/spec.js';
import { kernelVersionCode as versionOf } from '../uapi/kernel-version.js';

function configText(): string {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      return readFileSync(`/boot/config-${release()}`, 'utf8');
    } catch {
      return '';
    }
  }
}

/** KERNEL_VERSION(a, b, c) of `uname -r` (uapi/kernel-version.ts). */
export function kernelVersionCode(rel = release()): number {
  return versionOf(rel);
}

let config: Map<string, string> | undefined;

function kernelConfigMap(): Map<string, string> {
  config ??= new Map(configText().split('\n').flatMap((l) => {
    const m = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(l);
    return m ? [[m[1]!, m[2]!] as [string, string]] : [];
  }));
  return config;
}

/**
 * One option of the running kernel's config: 'y', 'm', a value, 'n' when
 * the config says it is not set, undefined when no config can be read.
 */
export function kernelConfig(name: string): string | undefined {
  const c = kernelConfigMap();
  if (c.size === 0) return undefined;
  return c.get(name) ?? 'n';
}

/** The .kconfig map's value with every extern the kernel's config or version defines filled in. */
export function kconfigValue(spec: MapSpec): Uint8Array {
  const out = new Uint8Array(spec.valueSize);
  const dv = new DataView(out.buffer);
  const config = kernelConfigMap();
  for (const e of spec.externs ?? []) {
    let v: bigint | undefined;
    if (e.name === 'LINUX_KERNEL_VERSION') v = BigInt(kernelVersionCode());
    else {
      const c = config.get(e.name);
      if (c === 'y') v = 1n;
      else if (c === 'm') v = 2n;
      else if (c !== undefined && /^-?(0x[0-9a-f]+|\d+)$/i.test(c)) v = BigInt(c);
    }
    if (v === undefined) continue;
    for (let i = 0; i < e.size; i++) dv.setUint8(e.offset + i, Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
  }
  return out;
}
