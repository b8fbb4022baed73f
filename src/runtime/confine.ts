/**
 * Probe domains: what "a collection's own memory" is, for the probe-read
 * helpers' confined mode (RuntimeOptions.probeReach 'collection';
 * helpers/reach.ts, docs/security.md).
 *
 * Each map gets a tag, and every region the map adds to the address space
 * carries it (Region.owner): the runtime sets AddressSpace.regionOwner
 * around the map's creation and around whatever may add regions later (host
 * updates, program updates through the helpers, the for_each key buffer),
 * so the maps layer needs to know nothing of it. A domain owns its
 * programs' stacks (the engines tag them with ProgramImage.owner) and the
 * tags of the maps its programs may use. A region nobody tagged belongs to
 * no domain: confined reads of it fail, never succeed by mistake.
 */
import type { BpfMap } from '../maps/map.js';
import type { AddressSpace, Region } from '../memory/address-space.js';
import type { ProbeDomain } from '../helpers/reach.js';

/** The memory of one collection (or one raw program): its maps' tags and its own stack regions. */
export class CollectionDomain implements ProbeDomain {
  private readonly tags = new Set<object>();
  constructor(readonly name: string) {}
  addMap(tag: object | undefined): void {
    if (tag) this.tags.add(tag);
  }
  owns(r: Region): boolean {
    const o = r.owner;
    return o !== undefined && (o === this || this.tags.has(o));
  }
}

/** Run `fn` with new regions of `space` owned by `tag`. */
export function owning<T>(space: AddressSpace, tag: object | undefined, fn: () => T): T {
  if (tag === undefined) return fn();
  const prev = space.regionOwner;
  space.regionOwner = tag;
  try {
    return fn();
  } finally {
    space.regionOwner = prev;
  }
}

/** Host-side map operations that may add regions (elements allocated on insert). */
const INSERTING = ['set', 'updateBatch'] as const;

/** The tags of a runtime's maps. */
export class MapTags {
  private readonly tags = new WeakMap<BpfMap<unknown>, object>();
  constructor(private readonly space: AddressSpace) {}

  /** Make a map whose regions carry a new tag (creation and later host inserts). */
  create(make: () => BpfMap<unknown>): BpfMap<unknown> {
    const tag = {};
    const m = owning(this.space, tag, make);
    this.adopt(m, tag);
    return m;
  }

  /** Tag a map made elsewhere (a pin reopened, a worker's attached map) with `tag`, made under owning(tag). */
  adopt(m: BpfMap<unknown>, tag: object): void {
    if (this.tags.has(m)) return;
    this.tags.set(m, tag);
    const space = this.space;
    // the map's inserting methods are wrapped by name (INSERTING): its class declares no index signature
    const obj = m as unknown as Record<string, unknown>;
    for (const name of INSERTING) {
      const f = obj[name];
      if (typeof f !== 'function') continue;
      // An own property shadows the class's method for this instance only.
      obj[name] = function (this: unknown, ...a: unknown[]) {
        return owning(space, tag, () => (f as (...x: unknown[]) => unknown).apply(this, a));
      };
    }
  }

  tagOf(m: BpfMap<unknown>): object | undefined {
    return this.tags.get(m);
  }
}
