/**
 * A read-only map built on first use. The large tables of kernel facts (the
 * helper catalog, the verifier's view of it) are consulted only by programs
 * that need them: a `tsbpf prog run` of a program that calls no helper never
 * builds them (issue 17: no work at import time; docs/architecture.md,
 * "Start-up").
 */
export class LazyMap<K, V> implements ReadonlyMap<K, V> {
  private built: ReadonlyMap<K, V> | undefined;

  constructor(private readonly build: () => ReadonlyMap<K, V>) {}

  /** The map, built now if it was not yet. */
  private get map(): ReadonlyMap<K, V> {
    return (this.built ??= this.build());
  }

  /** Whether the map has been built (for tests of what a command does). */
  get isBuilt(): boolean {
    return this.built !== undefined;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  forEach(cb: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    this.map.forEach((v, k) => cb.call(thisArg, v, k, this));
  }

  keys(): MapIterator<K> {
    return this.map.keys();
  }

  values(): MapIterator<V> {
    return this.map.values();
  }

  entries(): MapIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.map.entries();
  }
}
