/**
 * BPF_MAP_TYPE_PROG_ARRAY: the tail-call table. Slots hold program
 * references the runtime hands in (`ProgramRef`); from the host a slot is set
 * with a program id (the kernel takes a program fd) and reads back as that id.
 * Programs cannot look up or update it (the verifier allows only
 * bpf_tail_call on it); `getProgram(index)` is what tail calls use.
 *
 * Ownership (kernel/bpf/core.c __bpf_prog_map_compatible, Linux 6.18): a tail
 * call hands the caller's context to the callee, so every program that can
 * reach the array must agree on what that context is. The first program that
 * uses the array — loaded with a reference to it (bpf_check_tail_call, at
 * load), or inserted into a slot — becomes its owner; every later user and
 * every later insertion must match the owner's program type, JIT status,
 * xdp frags flag, sleepable flag and expected attach type, and, for tracing
 * programs, the attach target's function prototype. A mismatch is EINVAL,
 * naming both programs. The owner stays for the array's lifetime, also after
 * the owning program is unloaded, as in the kernel. (Linux also compares
 * cgroup storage cookies and refuses kprobe_override and device-bound
 * programs; tsbpf has neither cgroup storage maps, nor bpf_override_return,
 * nor offloaded programs, so those never differ here.)
 *
 * The slot ids are mirrored as u32 words at `slotsAddr + 4 * index` (0 when
 * empty) so a JIT can test a slot without calling out.
 */
import type { MapSpec } from '../object/spec.js';
import type { Region } from '../memory/address-space.js';
import { type MapContext, type ProgramRef } from './map.js';
import { FdArray } from './fd-array.js';

/** What ownership compares, as the kernel's struct bpf_map_owner holds it. */
interface Owner {
  name: string;
  type: string;
  jited: boolean;
  xdpHasFrags: boolean;
  sleepable: boolean;
  expectedAttachType: string | undefined;
  attachFuncProto: number | undefined;
}

/** Program types whose attach prototype is part of the context (bpf_prog_map_compatible's switch). */
const PROTO_TYPES: ReadonlySet<string> = new Set(['tracing', 'lsm', 'ext', 'struct_ops']);

function ownerOf(p: ProgramRef & { type: string }): Owner {
  return {
    name: p.name ?? `id ${p.id}`,
    type: p.type,
    jited: p.jited ?? false,
    xdpHasFrags: p.xdpHasFrags ?? false,
    sleepable: p.sleepable ?? false,
    // The kernel's attach type 0 is BPF_CGROUP_INET_INGRESS: a program without one has that.
    expectedAttachType: p.expectedAttachType === 'cgroup_inet_ingress' ? undefined : p.expectedAttachType,
    attachFuncProto: p.attachFuncProto,
  };
}

/** The first fact in which `p` differs from the owner, or undefined when compatible (__bpf_prog_map_compatible's order). */
function difference(o: Owner, p: Owner): string | undefined {
  if (o.type !== p.type) return `program type ${p.type}, not ${o.type}`;
  if (o.jited !== p.jited) return p.jited ? 'JIT-compiled, the owner is interpreted' : 'interpreted, the owner is JIT-compiled';
  if (o.xdpHasFrags !== p.xdpHasFrags) return p.xdpHasFrags ? 'xdp frags (BPF_F_XDP_HAS_FRAGS), the owner has none' : 'no xdp frags, the owner has BPF_F_XDP_HAS_FRAGS';
  if (o.sleepable !== p.sleepable) return p.sleepable ? 'sleepable, the owner is not' : 'not sleepable, the owner is';
  if (o.expectedAttachType !== p.expectedAttachType) return `expected attach type ${p.expectedAttachType ?? 'none'}, not ${o.expectedAttachType ?? 'none'}`;
  if (o.attachFuncProto !== p.attachFuncProto && PROTO_TYPES.has(p.type)) return 'an attach target with another function prototype';
  return undefined;
}

export class ProgArray extends FdArray<ProgramRef> {
  readonly slotsAddr: number;
  private owner: Owner | undefined;
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
  /**
   * Take `p` as a user of this array (bpf_check_tail_call at load, and every
   * insertion): the first user becomes the owner; a later one must match it,
   * else EINVAL naming both programs. `what` says what was being done.
   */
  claim(p: ProgramRef, what = 'use'): void {
    if (p.type === undefined) return;
    const facts = ownerOf(p as ProgramRef & { type: string });
    if (this.owner === undefined) {
      this.owner = facts;
      return;
    }
    const why = difference(this.owner, facts);
    if (why !== undefined)
      throw this.err('EINVAL', `cannot ${what} program ${facts.name}: the prog_array is owned by ${this.owner.type} program ${this.owner.name}, and ${facts.name} is ${why} (a tail call would hand it the owner's context)`);
  }

  /** The owner's program name and type, once a program has used the array. */
  get ownerProgram(): { name: string; type: string } | undefined {
    return this.owner ? { name: this.owner.name, type: this.owner.type } : undefined;
  }

  protected override onStore(i: number, p: ProgramRef | undefined, old: ProgramRef | undefined): void {
    if (p !== undefined) {
      try {
        this.claim(p, `put into slot ${i}`);
      } catch (e) {
        if (old === undefined) this.slots.delete(i);
        else this.slots.set(i, old);
        throw e;
      }
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
