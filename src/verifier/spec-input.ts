/**
 * From an object's specs to the verifier's input: the maps a program refers
 * to (with .rodata contents, frozen and read-only for programs, as libbpf
 * creates them) and which map each lddw names.
 */
import type { CollectionSpec, MapSpec, ProgramSpec } from '../object/spec.js';
import type { VerifierInput, VerifierMapInfo } from './check.js';

const BPF_F_RDONLY_PROG = 0x80;

export function mapInfoOf(m: MapSpec): VerifierMapInfo {
  const info: VerifierMapInfo = {
    name: m.name,
    type: m.type,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags | (m.freeze ? BPF_F_RDONLY_PROG : 0),
  };
  if (m.freeze) info.frozen = true;
  if (m.innerMap) info.inner = mapInfoOf(m.innerMap);
  const c = m.contents?.[0];
  if (c && 'value' in c) info.contents = c.value;
  else if (m.freeze) info.contents = new Uint8Array(m.valueSize);
  return info;
}

export function inputFromSpec(
  coll: CollectionSpec,
  prog: ProgramSpec,
  opts: Pick<VerifierInput, 'privileged' | 'logLevel' | 'helpers'> = {},
): VerifierInput {
  const maps: VerifierMapInfo[] = [];
  const index = new Map<string, number>();
  const byInsn = new Map<number, number>();
  for (const ref of prog.references) {
    if ((ref.kind !== 'map' && ref.kind !== 'map_value') || !ref.map) continue;
    let k = index.get(ref.map);
    if (k === undefined) {
      const spec = coll.maps.get(ref.map);
      if (!spec) continue;
      k = maps.length;
      maps.push(mapInfoOf(spec));
      index.set(ref.map, k);
    }
    byInsn.set(ref.index, k);
  }
  const input: VerifierInput = {
    insns: prog.insns,
    progType: prog.type,
    maps,
    mapOfInsn: (i) => byInsn.get(i),
    license: prog.license,
    ...opts,
  };
  if (prog.lineInfo) input.lineInfo = prog.lineInfo;
  if (prog.sleepable) input.sleepable = true;
  if (prog.funcInfo) input.funcInfo = prog.funcInfo;
  if (coll.btf !== undefined) input.btf = coll.btf;
  return input;
}
