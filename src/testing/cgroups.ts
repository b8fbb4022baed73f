/**
 * The cgroup v2 hierarchy of a modelled kernel: `struct cgroup` objects of
 * the model, laid out as the kernel's BTF says, that the cgroup helpers
 * answer from.
 *
 * As in Linux (kernel/cgroup/cgroup.c, include/linux/cgroup.h):
 * - a cgroup's id is its kernfs node's id (cgroup_id(): `kn->id`); the root
 *   cgroup's is 1;
 * - `level` is its depth (the root is 0) and `ancestors[level]` is the
 *   cgroup itself, `ancestors[0]` the root (cgroup_ancestor() reads them);
 * - a task's cgroup v2 is `task->cgroups->dfl_cgrp` (task_dfl_cgroup()),
 *   the css_set the task belongs to;
 * - cgroup_is_descendant(cgrp, ancestor): cgrp->ancestors[ancestor->level]
 *   == ancestor.
 * Fields the kernel BTF lacks (the small shipped kernel has no `root`) are
 * left out; the hierarchy itself is kept here too, so the helpers give the
 * same answers whatever BTF the model uses.
 */
import { TsbpfError } from '../errors.js';
import type { KernelModel, KernelObject, ObjectInit } from './model.js';

interface Cgroup {
  readonly obj: KernelObject;
  readonly id: bigint;
  readonly name: string;
  readonly parent: Cgroup | undefined;
  /** root first, this cgroup last (cgroup->ancestors[0..level]) */
  readonly chain: Cgroup[];
  /** the css_set of the tasks put in this cgroup (task->cgroups) */
  cssSet?: KernelObject;
}

export interface CgroupOptions {
  /** the cgroup's id (its kernfs node id, what bpf_get_current_cgroup_id returns); default the next free one */
  id?: bigint | number;
}

export class CgroupTree {
  /** the root cgroup (id 1, level 0) */
  readonly root: KernelObject;
  private readonly byId = new Map<bigint, Cgroup>();
  private readonly byAddr = new Map<number, Cgroup>();
  private nextId = 2n;

  constructor(private readonly model: KernelModel) {
    this.root = this.make(undefined, '', 1n).obj;
  }

  /**
   * The cgroup at `path` below the root (`/system.slice/cron.service`),
   * made with its missing parents if it does not exist yet. `opts.id`
   * names the last one's id (EEXIST if another cgroup has it, EINVAL if the
   * cgroup exists with another id).
   */
  cgroup(path: string, opts: CgroupOptions = {}): KernelObject {
    const parts = path.split('/').filter((p) => p !== '');
    let cg = this.byAddr.get(this.root.addr)!;
    parts.forEach((name, i) => {
      const last = i === parts.length - 1;
      const found = [...this.byId.values()].find((c) => c.parent === cg && c.name === name);
      const want = last && opts.id !== undefined ? BigInt(opts.id) : undefined;
      if (found) {
        if (want !== undefined && want !== found.id) throw new TsbpfError('EINVAL', `cgroup ${path} exists with id ${found.id}, not ${want}`);
        cg = found;
        return;
      }
      cg = this.make(cg, name, want);
    });
    if (parts.length === 0 && opts.id !== undefined && BigInt(opts.id) !== 1n) throw new TsbpfError('EINVAL', 'the root cgroup has id 1');
    return cg.obj;
  }

  /** The css_set a task in cgroup `cg` points at (task->cgroups), made once per cgroup. */
  cssSet(cg: KernelObject): KernelObject {
    const c = this.known(cg);
    c.cssSet ??= this.model.object('css_set', { dfl_cgrp: c.obj });
    return c.cssSet;
  }

  /** Whether a cgroup has this id (a cgroup_array update names cgroups by id). */
  has(id: bigint): boolean {
    return this.byId.has(id);
  }

  /** The id of cgroup `cg`'s ancestor at `level` (cgroup_ancestor), 0 when level is past its own; undefined for a cgroup not made here. */
  ancestorId(cg: number, level: number): bigint | undefined {
    const c = this.byAddr.get(cg);
    if (!c) return undefined;
    return c.chain[level]?.id ?? 0n;
  }

  /** Whether the cgroup at address `cg` is the cgroup `id` or below it (cgroup_is_descendant); undefined for a cgroup not made here. */
  isDescendant(cg: number, id: bigint): boolean | undefined {
    const c = this.byAddr.get(cg);
    const a = this.byId.get(id);
    if (!c) return undefined;
    return a !== undefined && c.chain[a.chain.length - 1] === a;
  }

  private known(cg: KernelObject): Cgroup {
    const c = this.byAddr.get(cg.addr);
    if (!c) throw new TsbpfError('EINVAL', `${cg.typeName} at 0x${cg.addr.toString(16)} is not a cgroup of this kit (make it with kit.cgroup(path))`);
    return c;
  }

  private make(parent: Cgroup | undefined, name: string, want: bigint | undefined): Cgroup {
    const id = want ?? this.freeId();
    if (id <= 0n || id >= 1n << 64n) throw new TsbpfError('EINVAL', `cgroup id ${id} is not a u64 above 0`);
    if (this.byId.has(id)) throw new TsbpfError('EEXIST', `a cgroup already has id ${id}`);
    const up = parent?.chain ?? [];
    const init: Record<string, unknown> = { kn: { id, name }, level: up.length };
    // ancestors[] is a flexible array: made with room for level + 1 pointers, the last one (itself) written once it has an address
    if (this.hasField('cgroup', 'ancestors')) init.ancestors = [...up.map((a) => a.obj), null];
    const obj = this.model.object('cgroup', this.present(init));
    if (init.ancestors) obj.set({ ancestors: [...up.map((a) => a.obj), obj] });
    const c: Cgroup = { obj, id, name, parent, chain: [] };
    c.chain.push(...up, c);
    this.byId.set(c.id, c);
    this.byAddr.set(c.obj.addr, c);
    return c;
  }

  private freeId(): bigint {
    while (this.byId.has(this.nextId)) this.nextId++;
    return this.nextId++;
  }

  /** `init` without the fields the kernel BTF's struct cgroup lacks. */
  private present(init: Record<string, unknown>): ObjectInit {
    return Object.fromEntries(Object.entries(init).filter(([k]) => this.hasField('cgroup', k))) as ObjectInit;
  }

  private hasField(type: string, field: string): boolean {
    const t = this.model.btf.typeById(this.model.typeId(type));
    return t.kind === 'struct' && t.members.some((m) => m.name === field);
  }
}
