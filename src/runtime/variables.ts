/**
 * Global variables of a loaded collection (libbpf's skeleton after
 * bpf_object__load, cilium/ebpf's Variable): read and write `.data` and
 * `.bss` variables in the loaded map, read `.rodata` ones (frozen at load:
 * a write is EPERM, as the skeleton's read-only mapping refuses it). Works
 * over either backend's maps (MapApi).
 */
import { TsbpfError } from '../errors.js';
import type { Btf } from '../object/btf/btf.js';
import type { BtfValue } from '../object/btf/codec.js';
import { decodeVariable, encodeVariable, variableLocations, type VariableLocation } from '../object/variables.js';
import type { CollectionSpec } from '../object/spec.js';
import type { MapApi } from './api.js';

export class Variable<T extends BtfValue = BtfValue> {
  constructor(
    readonly location: VariableLocation,
    private readonly map: Pick<MapApi, 'get' | 'set' | 'name'>,
    private readonly btf: Btf,
  ) {}
  get name(): string {
    return this.location.name;
  }
  /** The section's bytes now (BPF_MAP_LOOKUP_ELEM of key 0). */
  private bytes(): Uint8Array {
    const v = this.map.get(0);
    if (!(v instanceof Uint8Array)) throw new TsbpfError('ENOENT', `variable ${this.name}: map ${this.map.name} has no value`);
    return v;
  }
  /** The variable's value, decoded through its BTF type. */
  get(): T {
    return decodeVariable(this.btf, this.location, this.bytes()) as T;
  }
  /** Write the variable (`.data`, `.bss`); `.rodata` is EPERM. */
  set(value: T | Uint8Array): void {
    if (this.location.readOnly) throw new TsbpfError('EPERM', `variable ${this.name} is in ${this.location.section}, which is frozen after load`);
    const enc = encodeVariable(this.btf, this.location, value);
    const all = this.bytes();
    all.set(enc, this.location.offset);
    this.map.set(0, all);
  }
}

/** The variables of a loaded collection, given its spec and its maps by name. */
export function loadedVariables(spec: Pick<CollectionSpec, 'maps' | 'btf'>, mapOf: (name: string) => Pick<MapApi, 'get' | 'set' | 'name'> | undefined): Map<string, Variable> {
  const out = new Map<string, Variable>();
  for (const [name, loc] of variableLocations(spec)) {
    const m = mapOf(loc.map);
    if (m) out.set(name, new Variable(loc, m, spec.btf!));
  }
  return out;
}
