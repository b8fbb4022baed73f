/**
 * BPF_MAP_TYPE_PROG_ARRAY: the tail-call table. Slots hold program
 * references the runtime hands in (`ProgramRef`); from the host a slot is set
 * with a program id (the kernel takes a program fd) and reads back as that id.
 * Programs cannot look up or update it (the verifier allows only
 * bpf_tail_call on it); `getProgram(index)` is what tail calls use. As in the
 * kernel, every program in one prog_array must have the same program type
 * (the first one inserted fixes it; a mismatch is EINVAL).
 *
 * The slot ids are mirrored as u32 words at `slotsAddr + 4 * index` (0 when
 * empty) so a JIT can test a slot without calling out.
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../vm/memory.js';
import { type MapContext, type ProgramRef } from './map.js';
import { FdArray } from './fd-array.js';

export class ProgArray extends FdArray<ProgramRef> {
  readonly slotsAddr: number;
  private ownerType: string | undefined;
  private readonly programs: MapContext['programs'];
  private region: Region | undefined;

  constructor(spec: MapSpec, ctx: MapContext) {
    super(spec, ctx);
    this.programs = ctx.programs;
    try {
      this.slotsAddr = this.space.alloc(this.maxEntries * 4, 8);
    } catch (e) {
      this.close();
      throw e;
    }
    this.region = this.space.addRegion({ base: this.slotsAddr, size: this.maxEntries * 4, kind: 'map', name: `prog_array ${this.name}`, writable: false });
    this.setDescriptorValues(this.slotsAddr, 4);
  }

  protected handleOf(p: ProgramRef): number {
    return p.id;
  }
  protected resolve(id: number): ProgramRef {
    const p = this.programs?.byId(id);
    if (!p) throw this.err('EBADF', `no program with id ${id}`);
    return p;
  }
  protected override onStore(i: number, p: ProgramRef | undefined, old: ProgramRef | undefined): void {
    if (p?.type !== undefined) {
      if (this.ownerType !== undefined && this.ownerType !== p.type) {
        if (old === undefined) this.slots.delete(i);
        else this.slots.set(i, old);
        throw this.err('EINVAL', `prog_array holds ${this.ownerType} programs, not ${p.type}`);
      }
      this.ownerType = p.type;
    }
    if (this.slotsAddr) this.space.writeU32(this.slotsAddr + 4 * i, p ? p.id >>> 0 : 0);
  }

  /** The program in slot `index` (tail calls), or undefined. */
  getProgram(index: number): ProgramRef | undefined {
    return this.slots.get(index >>> 0);
  }
  setProgram(index: number, p: ProgramRef | undefined): void {
    this.store(index, p);
  }

  /** Drop every slot that refers to program `id` (the program was unloaded). */
  forget(id: number): void {
    for (const [i, p] of [...this.slots]) if (p.id === id) this.store(i, undefined);
  }

  protected override freeStorage(): void {
    this.slots.clear();
    if (this.slotsAddr) this.space.free(this.slotsAddr);
    if (this.region) this.space.removeRegion(this.region);
  }
}
