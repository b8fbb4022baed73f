/**
 * Global variables by name (libbpf's skeleton fields, cilium/ebpf's
 * VariableSpec): the variables of `.data`, `.bss`, `.rodata` and their
 * `.data.*` / `.rodata.*` / `.bss.*` siblings, found through the DATASEC of
 * each global-data map (object/maps.ts makes one single-entry array map per
 * section; its BTF value type is the section's DATASEC, whose entries give
 * each variable's offset, size and type).
 *
 * As bpftool's skeleton, only variables with global linkage are listed: a
 * `static` one is the object's own business. Before load, `variablesOf(spec)`
 * reads and sets a variable in the map's initial contents (so `.rodata`
 * constants are set before the verifier sees them); after load the
 * collection's `variables` read and write the loaded map (runtime/variables.ts).
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from './btf/btf.js';
import { decodeValue, encodeValue, type BtfValue } from './btf/codec.js';
import type { CollectionSpec, MapSpec } from './spec.js';

/** Where a global variable lives. */
export interface VariableLocation {
  readonly name: string;
  /** the map (global-data section) that holds it, by its collection name */
  readonly map: string;
  /** the ELF section: `.data`, `.bss`, `.rodata`, `.data.foo`, ... */
  readonly section: string;
  readonly offset: number;
  readonly size: number;
  /** the variable's BTF type (into the collection's BTF) */
  readonly typeId: number;
  /** `.rodata*`: constant for programs, frozen after load */
  readonly readOnly: boolean;
}

/** The global variables of a collection, by name. */
export function variableLocations(spec: Pick<CollectionSpec, 'maps' | 'btf'>): Map<string, VariableLocation> {
  const out = new Map<string, VariableLocation>();
  const btf = spec.btf;
  if (!btf) return out;
  for (const [mapName, ms] of spec.maps) {
    if (ms.section === undefined || ms.btfValueTypeId === undefined) continue;
    const ds = btf.typeById(ms.btfValueTypeId);
    if (ds.kind !== 'datasec') continue;
    for (const v of ds.vars) {
      const t = btf.typeById(v.typeId);
      if (t.kind !== 'var' || t.linkage !== 'global') continue;
      out.set(t.name, { name: t.name, map: mapName, section: ms.section, offset: v.offset, size: v.size, typeId: t.typeId, readOnly: ms.section.startsWith('.rodata') });
    }
  }
  return out;
}

/** Decode and encode one variable's bytes through its BTF type. */
export function decodeVariable(btf: Btf, loc: VariableLocation, bytes: Uint8Array): BtfValue {
  return decodeValue(btf, loc.typeId, bytes.subarray(loc.offset, loc.offset + loc.size));
}
export function encodeVariable(btf: Btf, loc: VariableLocation, value: BtfValue): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== loc.size) throw new TsbpfError('EINVAL', `variable ${loc.name} is ${loc.size} bytes, got ${value.length}`);
    return value;
  }
  return encodeValue(btf, loc.typeId, value);
}

/**
 * A global variable before load (cilium/ebpf's VariableSpec): `get` reads
 * its initial value, `set` changes it in the map's initial contents, for
 * every section (`.rodata` included: that is how constants are given).
 */
export class VariableSpec<T extends BtfValue = BtfValue> {
  constructor(
    readonly location: VariableLocation,
    private readonly mapSpec: MapSpec,
    private readonly btf: Btf,
  ) {}
  get name(): string {
    return this.location.name;
  }
  /** The section's initial bytes (`.bss`: zeros), made writable in the spec. */
  private initial(): Uint8Array {
    const ms = this.mapSpec;
    const c = ms.contents?.find((x): x is { key: Uint8Array; value: Uint8Array } => 'key' in x);
    if (c) return c.value;
    const value = new Uint8Array(ms.valueSize);
    (ms.contents ??= []).push({ key: new Uint8Array(4), value });
    return value;
  }
  get(): T {
    return decodeVariable(this.btf, this.location, this.initial()) as T;
  }
  set(value: T | Uint8Array): void {
    this.initial().set(encodeVariable(this.btf, this.location, value), this.location.offset);
  }
}

/** The global variables of a spec, to read and set before load. */
export function variablesOf(spec: CollectionSpec): Map<string, VariableSpec> {
  const out = new Map<string, VariableSpec>();
  for (const [name, loc] of variableLocations(spec)) out.set(name, new VariableSpec(loc, spec.maps.get(loc.map)!, spec.btf!));
  return out;
}
