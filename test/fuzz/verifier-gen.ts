/**
 * Random but plausible BPF programs for soundness fuzzing of the verifier
 * (issue 5, part 7): ALU on scalars, stack stores and loads at random
 * offsets, packet accesses with and without bounds checks against data_end,
 * map lookups with and without null checks and with constant or masked
 * variable offsets, forward branches, bounded loops and helper calls, for
 * xdp and socket_filter programs with two maps.
 *
 * Most choices are "right" (as a careful C programmer's clang output would
 * be) and a few are deliberately wrong (a missing check, an offset one past
 * the end, an uninitialised read), so that a good share of programs is
 * accepted while the verifier still has to catch the mistakes. The program
 * is kernel-dialect assembly (printable for a bug report), with `map[N]`
 * for the lddw of map N as in the corpus.
 */

/** mulberry32: small, fast, seedable. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export interface GenMap {
  type: 'hash' | 'array';
  keySize: 4;
  valueSize: number;
  maxEntries: number;
}

export interface GenProgram {
  type: 'xdp' | 'socket_filter';
  maps: GenMap[];
  source: string;
}

const SIZES = [1, 2, 4, 8] as const;
/** An offset as the kernel prints it: `+4`, `-8`. */
const o = (n: number): string => (n >= 0 ? `+${n}` : `${n}`);
const SZ: Record<number, string> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };
const ALU = ['+=', '-=', '*=', '|=', '&=', '^=', '<<=', '>>=', 's>>=', '/=', '%='];
const JMP = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'];

/**
 * Register use: r6 ctx, r7 data, r8 data_end (xdp), r9 scratch; r0-r5 hold
 * scalars while the generator knows them initialised (calls clobber r1-r5).
 */
class Gen {
  readonly out: string[] = [];
  private label = 0;
  /** scalar registers known initialised */
  private init = new Set<number>();
  /** stack bytes [-64, 0) known written (offset from r10) */
  private stack = new Set<number>();
  constructor(
    readonly r: Rng,
    readonly p: GenProgram,
  ) {}

  emit(s: string): void {
    this.out.push(`  ${s}`);
  }
  newLabel(): string {
    return `L${this.label++}`;
  }
  place(l: string): void {
    this.out.push(`${l}:`);
  }

  /** An initialised scalar register (or, rarely, any register: a deliberate mistake). */
  scalarReg(): number {
    const known = [...this.init];
    if (!known.length) {
      // after a call only r0 survives (and it may be a pointer here): make a fresh scalar
      const k = this.r.int(1, 5);
      this.initReg(k);
      return k;
    }
    if (this.r.chance(0.02)) return this.r.int(0, 5);
    return this.r.pick(known);
  }
  initReg(reg: number): void {
    this.emit(`r${reg} = ${this.imm()}`);
    this.setScalar(reg);
  }
  setScalar(reg: number): void {
    this.init.add(reg);
  }
  clobberCall(): void {
    for (let i = 1; i <= 5; i++) this.init.delete(i);
    this.init.add(0);
  }

  imm(): number {
    return this.r.pick([0, 1, 2, 3, 7, 8, 15, 16, 31, 63, 64, 255, -1, -8, 0x7fffffff, this.r.int(-1000, 1000)]);
  }

  alu(): void {
    const dst = this.r.int(0, 5);
    const op = this.r.pick(ALU);
    const w = this.r.chance(0.3) ? 'w' : 'r';
    if (!this.init.has(dst) || this.r.chance(0.15)) {
      this.emit(`${w}${dst} = ${this.imm()}`);
      this.setScalar(dst);
      return;
    }
    let rhs: string;
    if (this.r.chance(0.5)) {
      let v = this.imm();
      if (op === '/=' || op === '%=') v = v === 0 && !this.r.chance(0.05) ? 3 : v;
      if (op === '<<=' || op === '>>=' || op === 's>>=') v = this.r.chance(0.97) ? this.r.int(0, w === 'w' ? 31 : 63) : 64;
      rhs = String(v);
    } else rhs = `${w}${this.scalarReg()}`;
    this.emit(`${w}${dst} ${op} ${rhs}`);
  }

  stackStore(): void {
    const size = this.r.pick(SIZES);
    let off = -size * this.r.int(1, Math.floor(64 / size));
    if (this.r.chance(0.03)) off += 1; // misaligned
    if (this.r.chance(0.02)) off = -520; // below the stack
    if (this.r.chance(0.5)) this.emit(`*(${SZ[size]} *)(r10 ${o(off)}) = ${this.imm()}`);
    else this.emit(`*(${SZ[size]} *)(r10 ${o(off)}) = r${this.scalarReg()}`);
    for (let i = 0; i < size; i++) this.stack.add(off + i);
  }

  stackLoad(): void {
    const written = [...this.stack].filter((o) => o % 8 === 0 && o >= -64);
    const size = this.r.pick(SIZES);
    const off = written.length && this.r.chance(0.9) ? this.r.pick(written) : -size * this.r.int(1, Math.floor(64 / size));
    const dst = this.r.int(0, 5);
    this.emit(`r${dst} = *(${SZ[size]} *)(r10 ${o(off)})`);
    this.setScalar(dst);
  }

  /** data..data_end: a bounds check of `len` bytes (sometimes missing or short), then an access. */
  packet(): void {
    if (this.p.type !== 'xdp') return this.ldAbs();
    const skip = this.newLabel();
    const size = this.r.pick(SIZES);
    const len = this.r.int(size, 64);
    const check = this.r.chance(0.93);
    let off = this.r.int(0, len - size);
    if (this.r.chance(0.04)) off = len - size + 1; // one past the checked range
    const variable = this.r.chance(0.3);
    if (variable) this.init.delete(1);
    const before = new Set(this.init);
    if (variable) {
      // data + (scalar & mask), then the check against data_end
      const src = this.scalarReg();
      this.emit(`r9 = r${src}`);
      this.emit(`r9 &= ${this.r.pick([0, 1, 3, 7, 15, 31, 255])}`);
      this.emit('r9 += r7');
      this.emit('r1 = r9');
      this.emit(`r1 += ${len}`);
      if (check) this.emit(`if r1 > r8 goto ${skip}`);
      this.init.delete(1);
      this.accessVia('r9', size, off);
    } else {
      this.emit('r9 = r7');
      this.emit(`r9 += ${len}`);
      if (check) this.emit(`if r9 > r8 goto ${skip}`);
      this.accessVia('r7', size, off);
    }
    this.place(skip);
    // what the access loaded exists only where the check passed
    this.init = new Set([...this.init].filter((x) => before.has(x)));
  }

  private accessVia(base: string, size: number, off: number): void {
    if (this.r.chance(0.6)) {
      const dst = this.r.int(0, 5);
      this.emit(`r${dst} = *(${SZ[size]} *)(${base} +${off})`);
      this.setScalar(dst);
    } else this.emit(`*(${SZ[size]} *)(${base} +${off}) = ${this.imm()}`);
  }

  /** Socket filters: LD_ABS/LD_IND (checked at run time) or bpf_skb_load_bytes into the stack. */
  ldAbs(): void {
    if (this.r.chance(0.5)) {
      this.emit(`r0 = *(${this.r.pick(['u8', 'u16', 'u32'])} *)skb[${this.r.int(0, 80)}]`);
    } else {
      const len = this.r.int(1, 16);
      const off = -8 * this.r.int(2, 8);
      this.emit('r1 = r6');
      this.emit(`r2 = ${this.r.int(0, 64)}`);
      this.emit('r3 = r10');
      this.emit(`r3 += ${off}`);
      this.emit(`r4 = ${this.r.chance(0.95) ? len : len + 64}`);
      this.emit('call bpf_skb_load_bytes');
      for (let i = 0; i < len; i++) this.stack.add(off + i);
    }
    this.clobberCall();
  }

  /** A map lookup: key on the stack, a null check (sometimes missing), then accesses into the value. */
  mapLookup(): void {
    const m = this.r.int(0, this.p.maps.length - 1);
    const vs = this.p.maps[m]!.valueSize;
    const skip = this.newLabel();
    this.emit(`*(u32 *)(r10 -4) = ${this.r.int(0, 5)}`);
    this.stack.add(-4).add(-3).add(-2).add(-1);
    this.emit('r2 = r10');
    this.emit('r2 += -4');
    this.emit(`r1 = map[${m}] ll`);
    this.emit('call bpf_map_lookup_elem');
    this.clobberCall();
    this.init.delete(0);
    const before = new Set(this.init);
    if (this.r.chance(0.95)) this.emit(`if r0 == 0 goto ${skip}`);
    const n = this.r.int(1, 3);
    for (let k = 0; k < n; k++) {
      const size = this.r.pick(SIZES.filter((s) => s <= vs));
      let off = this.r.int(0, vs - size);
      if (this.r.chance(0.04)) off = vs - size + 1;
      if (this.r.chance(0.25)) {
        // a masked variable offset: value + (x & mask) where mask + size <= value_size, mostly
        const src = this.scalarReg();
        const maxVar = Math.max(0, vs - size);
        const mask = this.r.chance(0.9) ? (1 << Math.floor(Math.log2(maxVar + 1))) - 1 : 255;
        this.emit(`r3 = r${src}`);
        this.emit(`r3 &= ${mask}`);
        this.emit('r4 = r0');
        this.emit('r4 += r3');
        off = 0;
        if (this.r.chance(0.5)) this.emit(`r5 = *(${SZ[size]} *)(r4 +${off})`);
        else this.emit(`*(${SZ[size]} *)(r4 +${off}) = ${this.imm()}`);
        this.init.delete(4);
        this.setScalar(3);
        this.setScalar(5);
      } else if (this.r.chance(0.5)) {
        this.emit(`r5 = *(${SZ[size]} *)(r0 +${off})`);
        this.setScalar(5);
      } else this.emit(`*(${SZ[size]} *)(r0 +${off}) = r${this.scalarReg()}`);
    }
    this.place(skip);
    this.init = new Set([...this.init].filter((x) => before.has(x)));
    this.init.delete(4);
    this.emit('r0 = 0');
    this.setScalar(0);
  }

  helper(): void {
    this.emit(`call ${this.r.pick(['bpf_get_prandom_u32', 'bpf_ktime_get_ns', 'bpf_get_smp_processor_id'])}`);
    this.clobberCall();
  }

  /** A forward branch over one block. */
  branch(depth: number): void {
    const l = this.newLabel();
    const a = this.scalarReg();
    const rhs = this.r.chance(0.5) ? String(this.imm()) : `r${this.scalarReg()}`;
    this.emit(`if r${a} ${this.r.pick(JMP)} ${rhs} goto ${l}`);
    // registers initialised only on one side are not initialised after the join
    const before = new Set(this.init);
    const stackBefore = new Set(this.stack);
    this.block(depth + 1);
    this.place(l);
    this.init = new Set([...this.init].filter((x) => before.has(x)));
    this.stack = new Set([...this.stack].filter((x) => stackBefore.has(x)));
  }

  /** A loop of a few iterations on r9 (not used by the body). */
  loop(depth: number): void {
    const top = this.newLabel();
    const n = this.r.int(1, 8);
    this.emit('r9 = 0');
    this.place(top);
    const k = this.r.int(1, 3);
    for (let i = 0; i < k; i++) (this.r.chance(0.5) ? this.alu() : this.stackStore());
    void depth;
    this.emit('r9 += 1');
    this.emit(`if r9 < ${n} goto ${top}`);
  }

  block(depth: number): void {
    const x = this.r.next();
    if (x < 0.3) this.alu();
    else if (x < 0.42) this.stackStore();
    else if (x < 0.5) this.stackLoad();
    else if (x < 0.68) this.packet();
    else if (x < 0.8) this.mapLookup();
    else if (x < 0.86) this.helper();
    else if (x < 0.95 && depth < 3) this.branch(depth);
    else if (depth < 2) this.loop(depth);
    else this.alu();
  }
}

export function generate(seed: number): GenProgram {
  const r = new Rng(seed);
  const type = r.chance(0.7) ? 'xdp' : 'socket_filter';
  const maps: GenMap[] = [
    { type: 'array', keySize: 4, valueSize: r.pick([8, 16, 24, 64]), maxEntries: 4 },
    { type: r.pick(['hash', 'array'] as const), keySize: 4, valueSize: r.pick([4, 8, 32]), maxEntries: 8 },
  ];
  const p: GenProgram = { type, maps, source: '' };
  const g = new Gen(r, p);
  g.emit('r6 = r1');
  if (type === 'xdp') {
    g.emit('r7 = *(u32 *)(r6 +0)');
    g.emit('r8 = *(u32 *)(r6 +4)');
  }
  // Scalars to work with (a register left out is uninitialised: reading it is a mistake the verifier must catch).
  for (let k = 0; k <= 5; k++) if (r.chance(0.85)) g.initReg(k);
  const n = r.int(3, 14);
  for (let i = 0; i < n; i++) g.block(0);
  if (r.chance(0.5)) g.emit(`r0 = ${r.int(0, 3)}`);
  else g.emit(`r0 = r${g.scalarReg()}`);
  g.emit('exit');
  p.source = g.out.join('\n');
  return p;
}
