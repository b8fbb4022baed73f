/**
 * The `.kconfig` externs of an object, filled with this machine's values as libbpf fills
 * them at load, whichever BTF the program is relocated against (bpf_object__resolve_externs:
 * LINUX_KERNEL_VERSION from `uname -r`, CONFIG_* from /proc/config.gz). The user-space
 * commands thereby judge and run a program as the kernel backend loads it: a branch guarded
 * by `LINUX_KERNEL_VERSION >= KERNEL_VERSION(5, 11, 0)` is dead or live as it is there.
 * The config is read only for an object that has such externs (start-up stays lean).
 */
import type { CollectionSpec, MapSpec } from '../object/spec.js';

const needsValues = (ms: MapSpec): boolean => ms.section === '.kconfig' && Boolean(ms.externs?.length) && !ms.contents?.length;

/** `spec` with its `.kconfig` map's value set from the running kernel; unchanged off Linux or when it holds values already. */
export async function withHostKconfig(spec: CollectionSpec): Promise<CollectionSpec> {
  if (process.platform !== 'linux' || ![...spec.maps.values()].some(needsValues)) return spec;
  const { kconfigValue } = await import('../kernel/kconfig.js');
  const maps = new Map(spec.maps);
  for (const [name, ms] of spec.maps) if (needsValues(ms)) maps.set(name, { ...ms, contents: [{ key: new Uint8Array(4), value: kconfigValue(ms) }] });
  return { ...spec, maps };
}
