/**
 * The one loader of verifier cases (issue 13, part 6). Every verifier harness
 * reads its cases here, in one case format (test/verifier-corpus/README.md):
 *
 * - program cases: test/verifier-corpus/*.txt, each an assembly program with its
 *   program type, privilege, maps, intended verdict and optional message fragment;
 *   the Linux kernel's verdict, errno and message (the truth) are in verdicts.json;
 * - object cases: the clang-built C programs test/verifier-corpus/c/*.o, the kernel's
 *   verdict and message for each in c/verdicts.json.
 *
 * It parses the corpus, assembles each case with tsbpf's assembler (kernel dialect)
 * and builds what both oracles take: the kloader's input for the kernel and a
 * VerifierInput for tsbpf's verify().
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../src/isa/asm.js';
import type { Insn } from '../../src/isa/insn.js';
import { MapType, ProgType, type MapTypeName, type ProgTypeName } from '../../src/object/spec.js';
import type { VerifierInput, VerifierMapInfo } from '../../src/verifier/index.js';
import { ROOT } from '../paths.js';
import { cowGuard } from '../../src/verifier/state.js';
import { corpusKernelBtf } from '../real-progs/corpus.js';

// The tests run the verifier with shared registers frozen: a write that skips copy-on-write throws.
cowGuard.freeze = true;

export const CORPUS_DIR = join(ROOT, 'test/verifier-corpus');
export const VERDICTS_FILE = join(CORPUS_DIR, 'verdicts.json');

export interface CorpusMap {
  type: MapTypeName;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  freeze: boolean;
  inner?: Omit<CorpusMap, 'inner' | 'freeze'>;
}

export interface CorpusCase {
  name: string;
  /** the file (group) it came from, without .txt */
  group: string;
  /** 1-based line of the @case header */
  line: number;
  type: ProgTypeName;
  privileged: boolean;
  /** the verdict the author intended (verdicts.json holds the kernel's) */
  expect: 'accept' | 'reject';
  /**
   * `@message TEXT` lines: fragments of the rejection message. tsbpf's message must contain each;
   * the kernel's recorded message (the last line of its log) must contain the last one.
   */
  messages: string[];
  expectedAttachType: number;
  progFlags: number;
  license: string;
  /** load with BTF func_info (one FUNC per function), as clang-built objects have */
  btf: boolean;
  /** tracing programs: the target (kernel function, or raw tracepoint name) the kernel's attach_btf_id names */
  attachBtf?: string;
  /**
   * tsbpf judges the case against the recording kernel's own types (test/real-progs/kernel.btf)
   * instead of the subset it ships: for loads through kernel objects (task_struct, mm_struct)
   * at the offsets of the kernel the corpus is recorded on
   */
  kernelBtf: boolean;
  /**
   * The verdict is derived from the kernel's source, not recorded: the running kernel refuses
   * the program type before verifying (EPERM, no log; lsm here), which the recording confirms.
   */
  derived: boolean;
  /** kfunc calls (`call kfunc:NAME`): slot index -> kernel function name */
  kfuncs: Map<number, string>;
  maps: CorpusMap[];
  /** the assembly as written */
  source: string;
  /** assembled slots; lddw map references carry the map's index in imm */
  insns: Insn[];
}

export interface KernelVerdict {
  verdict: 'accept' | 'reject' | 'unpriv: kernel disabled';
  errno: string | null;
  kernelMessage: string | null;
  /** for unprivileged cases the kernel would not judge: its privileged verdict on the same program */
  privileged?: { verdict: 'accept' | 'reject'; errno: string | null; kernelMessage: string | null };
}

export interface VerdictsFile {
  kernel: string;
  unprivilegedBpfDisabled: number | null;
  cases: Record<string, KernelVerdict>;
}

export class CorpusError extends Error {}

/** The kernel refused the load before verifying: EPERM and no log (lsm programs on this machine; `derived` cases). */
export function unjudged(k: { verdict: string; errno: string | null; kernelMessage: string | null }): boolean {
  return k.verdict === 'reject' && k.errno === 'EPERM' && !k.kernelMessage;
}

/** Attach types a case may name (enum bpf_attach_type). */
const ATTACH: Record<string, number> = { none: 0, xdp: 37, xdp_devmap: 33, trace_raw_tp: 23, trace_fentry: 24, trace_fexit: 25, modify_return: 26, trace_iter: 28,
  // cgroup hooks, by libbpf's names (src/object/sections.ts)
  cgroup_inet_egress: 1, cgroup_inet_sock_create: 2, cgroup_inet4_bind: 8, cgroup_inet6_bind: 9, cgroup_inet4_connect: 10, cgroup_inet6_connect: 11,
  cgroup_inet4_post_bind: 12, cgroup_inet6_post_bind: 13, cgroup_udp4_sendmsg: 14, cgroup_udp6_sendmsg: 15, cgroup_sysctl: 18,
  cgroup_udp4_recvmsg: 19, cgroup_udp6_recvmsg: 20, cgroup_inet4_getpeername: 29, cgroup_inet4_getsockname: 31, cgroup_inet_sock_release: 34, cgroup_device: 6,
  cgroup_sock_ops: 3, cgroup_getsockopt: 21, cgroup_setsockopt: 22, flow_dissector: 17, lsm_mac: 27, lsm_cgroup: 43,
  sk_reuseport_select: 39, sk_reuseport_select_or_migrate: 40 };
const ATTACH_NAME = new Map(Object.entries(ATTACH).map(([k, v]) => [v, k]));

/**
 * `call kfunc:NAME`: a BPF_PSEUDO_KFUNC_CALL whose imm, until the oracles
 * resolve it (kloader by vmlinux BTF id, tsbpf by name), is KFUNC_MARK plus
 * the name's index here.
 */
const KFUNC_MARK = 0x7e000000;
const kfuncNames: string[] = [];

interface Opts {
  type?: ProgTypeName;
  privileged?: boolean;
  expectedAttachType?: number;
  progFlags?: number;
  license?: string;
  btf?: boolean;
  attachBtf?: string;
  kernelBtf?: boolean;
  derived?: boolean;
}

function parseMap(file: string, line: number, words: string[]): CorpusMap {
  const [typeName, ...rest] = words;
  if (!typeName || !(typeName in MapType)) throw new CorpusError(`${file}:${line}: unknown map type '${typeName}'`);
  const m: CorpusMap = { type: typeName as MapTypeName, keySize: 0, valueSize: 0, maxEntries: 0, flags: 0, freeze: false };
  for (const w of rest) {
    const [k, v] = w.split('=') as [string, string | undefined];
    const num = (): number => {
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n)) throw new CorpusError(`${file}:${line}: bad number in '${w}'`);
      return n;
    };
    if (k === 'key') m.keySize = num();
    else if (k === 'value') m.valueSize = num();
    else if (k === 'max') m.maxEntries = num();
    else if (k === 'flags') m.flags = num();
    else if (k === 'freeze' && v === undefined) m.freeze = true;
    else if (k === 'inner' && v) {
      const [it, ik, iv, im] = v.split(':');
      if (!it || !(it in MapType)) throw new CorpusError(`${file}:${line}: bad inner map '${v}'`);
      m.inner = { type: it as MapTypeName, keySize: Number(ik), valueSize: Number(iv), maxEntries: Number(im), flags: 0 };
    } else throw new CorpusError(`${file}:${line}: unknown map attribute '${w}'`);
  }
  return m;
}

function parseOpts(file: string, line: number, words: string[], into: Opts): void {
  for (const w of words) {
    const [k, v] = w.split('=') as [string, string | undefined];
    if (k === 'type' && v) {
      if (!(v in ProgType)) throw new CorpusError(`${file}:${line}: unknown program type '${v}'`);
      into.type = v as ProgTypeName;
    } else if (k === 'unpriv' && v === undefined) into.privileged = false;
    else if (k === 'priv' && v === undefined) into.privileged = true;
    else if (k === 'attach' && v) {
      const n = ATTACH[v] ?? Number(v);
      if (!Number.isInteger(n)) throw new CorpusError(`${file}:${line}: unknown attach type '${v}'`);
      into.expectedAttachType = n;
    } else if (k === 'flags' && v) into.progFlags = Number(v);
    else if (k === 'license' && v) into.license = v.replace(/_/g, ' ');
    else if (k === 'btf' && v === undefined) into.btf = true;
    else if (k === 'attach_btf' && v) into.attachBtf = v === 'none' ? '' : v; // none: no attach_btf_id (overrides @defaults)
    else if (k === 'kernel_btf' && v === undefined) into.kernelBtf = true;
    else if (k === 'derived' && v === undefined) into.derived = true;
    else throw new CorpusError(`${file}:${line}: unknown option '${w}'`);
  }
}

/** The corpus's map shorthands in the assembler's syntax. */
function expandMaps(line: string): string {
  const kf = /^(\s*)call\s+kfunc:(\w+)\s*(?:[;#].*)?$/.exec(line);
  if (kf) {
    let k = kfuncNames.indexOf(kf[2]!);
    if (k < 0) k = kfuncNames.push(kf[2]!) - 1;
    // code 0x85 (call), src 2 (BPF_PSEUDO_KFUNC_CALL), imm = the mark
    return `${kf[1]}.raw 0x${(BigInt(KFUNC_MARK + k) << 32n | 0x2085n).toString(16)}`;
  }
  return line.replace(/\bmap_value\[(\d+)\]\s*\+\s*(\d+)/g, 'map[fd:$1][0]+$2').replace(/\bmap\[(\d+)\]/g, 'map[fd:$1]');
}

/**
 * Assemble a case's program, with the corpus's shorthands:
 *   map[N]          the lddw of map N's pointer   (`r1 = map[0] ll`)
 *   map_value[N]+O  the lddw of the address of byte O of map N's value (array maps)
 *   @rept N ... @endr  the lines between, N times (for size and complexity limits).
 * A repeated body is assembled once and its slots copied (a million-slot program
 * assembles in milliseconds), so the pieces around and inside @rept are assembled
 * separately: labels must not cross a @rept boundary (use `goto pc+N` there).
 */
export function assembleCase(src: string): Insn[] {
  const lines = src.split('\n');
  const out: Insn[] = [];
  let text: string[] = [];
  const flush = (): void => {
    if (text.some((l) => l.trim() !== '')) out.push(...assemble(text.join('\n'), { dialect: 'kernel' }));
    text = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*@rept\s+(\d+)\s*$/.exec(lines[i]!);
    if (!m) {
      text.push(expandMaps(lines[i]!));
      continue;
    }
    flush();
    const body: string[] = [];
    let depth = 1;
    for (i++; i < lines.length; i++) {
      if (/^\s*@rept\b/.test(lines[i]!)) depth++;
      if (/^\s*@endr\s*$/.test(lines[i]!) && --depth === 0) break;
      body.push(lines[i]!);
    }
    const slots = assembleCase(body.join('\n'));
    for (let k = 0; k < Number(m[1]); k++) for (const x of slots) out.push({ ...x });
  }
  flush();
  return out;
}

/** The kfunc calls of a case, with their marks reset to 0 (an unresolved kfunc call, as in an object file). */
function kfuncsOf(insns: Insn[]): Map<number, string> {
  const out = new Map<number, string>();
  insns.forEach((x, i) => {
    if (x.code === 0x85 && x.src === 2 && x.imm >= KFUNC_MARK && x.imm - KFUNC_MARK < kfuncNames.length) {
      out.set(i, kfuncNames[x.imm - KFUNC_MARK]!);
      x.imm = 0;
    }
  });
  return out;
}

/** Parse one corpus file. */
export function parseCorpusFile(path: string, group: string): CorpusCase[] {
  const text = readFileSync(path, 'utf8');
  const file = `${group}.txt`;
  const defaults: Opts = {};
  let defaultMaps: CorpusMap[] = [];
  const cases: CorpusCase[] = [];
  let cur: { name: string; line: number; expect: 'accept' | 'reject'; opts: Opts; maps: CorpusMap[] | null; body: string[]; messages: string[] } | null = null;

  const finish = (): void => {
    if (!cur) return;
    const source = cur.body.join('\n');
    let insns: Insn[];
    try {
      insns = assembleCase(source);
    } catch (e) {
      throw new CorpusError(`${file}:${cur.line}: case ${cur.name}: ${(e as Error).message}`);
    }
    const o = { ...defaults, ...cur.opts };
    if (!o.type) throw new CorpusError(`${file}:${cur.line}: case ${cur.name} has no program type`);
    cases.push({
      name: cur.name,
      group,
      line: cur.line,
      type: o.type,
      privileged: o.privileged ?? true,
      expect: cur.expect,
      messages: cur.messages,
      expectedAttachType: o.expectedAttachType ?? 0,
      progFlags: o.progFlags ?? 0,
      license: o.license ?? 'GPL',
      btf: o.btf ?? false,
      ...(o.attachBtf ? { attachBtf: o.attachBtf } : {}),
      kernelBtf: o.kernelBtf ?? false,
      derived: o.derived ?? false,
      kfuncs: kfuncsOf(insns),
      maps: cur.maps ?? defaultMaps,
      source,
      insns,
    });
    cur = null;
  };

  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    const t = raw.trim();
    if (t.startsWith('@case')) {
      finish();
      const [, name, expect, ...rest] = t.split(/\s+/);
      if (!name || !/^[A-Za-z0-9_]+$/.test(name)) throw new CorpusError(`${file}:${line}: bad case name '${name}'`);
      if (expect !== 'accept' && expect !== 'reject') throw new CorpusError(`${file}:${line}: case ${name}: say accept or reject after the name`);
      const opts: Opts = {};
      parseOpts(file, line, rest, opts);
      cur = { name, line, expect, opts, maps: null, body: [], messages: [] };
    } else if (t.startsWith('@map')) {
      const m = parseMap(file, line, t.split(/\s+/).slice(1));
      if (cur) (cur.maps ??= []).push(m);
      else defaultMaps = [...defaultMaps, m];
    } else if (t.startsWith('@defaults')) {
      if (cur) throw new CorpusError(`${file}:${line}: @defaults must come before the first @case`);
      parseOpts(file, line, t.split(/\s+/).slice(1), defaults);
    } else if (t.startsWith('@message')) {
      if (!cur) throw new CorpusError(`${file}:${line}: @message belongs inside a case`);
      cur.messages.push(t.slice('@message'.length).trim());
    } else if (t.startsWith('@nomaps')) {
      if (cur) cur.maps = [];
    } else if (cur) cur.body.push(raw);
    else if (t !== '' && !t.startsWith('#')) throw new CorpusError(`${file}:${line}: text outside a case: '${t}'`);
  });
  finish();
  return cases;
}

/** Every case of the corpus, in file order; names are unique across files. */
export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
  const all: CorpusCase[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    const group = f.slice(0, -4);
    for (const c of parseCorpusFile(join(dir, f), group)) {
      const prev = seen.get(c.name);
      if (prev) throw new CorpusError(`case name ${c.name} is used in ${prev}.txt and ${group}.txt`);
      seen.set(c.name, group);
      all.push(c);
    }
  }
  return all;
}

function mapInfo(m: CorpusMap | Omit<CorpusMap, 'inner' | 'freeze'>, i: number): VerifierMapInfo {
  const info: VerifierMapInfo = { name: `m${i}`, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags };
  if ('freeze' in m && m.freeze) {
    info.frozen = true;
    // kloader writes nothing before freezing: the contents are zeros.
    info.contents = new Uint8Array(m.valueSize);
  }
  if ('inner' in m && m.inner) info.inner = mapInfo(m.inner, i);
  return info;
}

/** Where each function starts: 0, and every bpf-to-bpf call or callback (lddw func) target. */
export function functionStarts(insns: readonly Insn[]): number[] {
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const x = insns[i]!;
    if (x.code === 0x85 && x.src === 1) starts.add(i + x.imm + 1);
    if (x.code === 0x18 && x.src === 4) starts.add(i + x.imm + 1);
    if (x.code === 0x18) i++;
  }
  return [...starts].sort((a, b) => a - b);
}

/** The fragment the kernel's recorded message (its log's last line) must contain: the case's last `@message`. */
export function kernelMessageFragment(c: CorpusCase): string | undefined {
  return c.messages.at(-1);
}

/** One case by name (tests that look at a particular rejection's explanation). */
export function caseNamed(name: string, cases: readonly CorpusCase[] = loadCorpus()): CorpusCase {
  const c = cases.find((x) => x.name === name);
  if (!c) throw new CorpusError(`no corpus case named ${name}`);
  return c;
}

/** tsbpf's verifier input for a case (privileged as the case says, unless overridden). */
export function verifierInput(c: CorpusCase, privileged = c.privileged, extra: Partial<VerifierInput> = {}): VerifierInput {
  return {
    insns: c.insns,
    progType: c.type,
    maps: c.maps.map(mapInfo),
    privileged,
    license: c.license,
    progFlags: c.progFlags,
    // kloader's BTF: type 1 int, 2 the prototype, 3.. one FUNC per function in order.
    ...(c.btf ? { funcInfo: functionStarts(c.insns).map((insnOff, k) => ({ insnOff, typeId: 3 + k })) } : {}),
    ...(c.kernelBtf ? { kernelBtf: corpusKernelBtf() } : {}),
    ...(c.kfuncs.size ? { kfuncOfInsn: (i: number) => c.kfuncs.get(i) } : {}),
    ...(ATTACH_NAME.has(c.expectedAttachType) && c.expectedAttachType ? { attachType: ATTACH_NAME.get(c.expectedAttachType)! } : {}),
    // the kernel's attach_btf_id names btf_trace_<tp>, bpf_lsm_<hook> and bpf_iter_<target>; tsbpf takes the
    // tracepoint, hook or iterator target, as a section names it
    ...(c.attachBtf ? { attachTo: c.attachBtf.replace(c.type === 'lsm' ? /^bpf_lsm_/ : c.expectedAttachType === ATTACH.trace_iter ? /^bpf_iter_/ : /^btf_trace_/, '') } : {}),
    ...extra,
  };
}

/** The case in kloader's input format (kloader.c). */
export function kloaderInput(c: CorpusCase, name = c.name, privileged = c.privileged): string {
  const out = [`case ${name}`, `prog ${ProgType[c.type]} ${c.expectedAttachType} ${c.progFlags} ${privileged ? 0 : 1}`, `license ${c.license}`];
  for (const m of c.maps) {
    if (m.inner) out.push(`inner ${MapType[m.inner.type]} ${m.inner.keySize} ${m.inner.valueSize} ${m.inner.maxEntries} ${m.inner.flags}`);
    out.push(`map ${MapType[m.type]} ${m.keySize} ${m.valueSize} ${m.maxEntries} ${m.flags} ${m.freeze ? 1 : 0}`);
  }
  for (const i of c.insns) out.push(`insn ${i.code} ${i.dst} ${i.src} ${i.off} ${i.imm}`);
  if (c.btf) for (const f of functionStarts(c.insns)) out.push(`func ${f}`);
  if (c.attachBtf) out.push(`attach_btf ${c.attachBtf}`);
  for (const [i, n] of c.kfuncs) out.push(`kfunc ${i} ${n}`);
  out.push('end');
  return out.join('\n') + '\n';
}

export function readVerdicts(path = VERDICTS_FILE): VerdictsFile {
  return JSON.parse(readFileSync(path, 'utf8')) as VerdictsFile;
}

/** The C programs of the corpus: test/verifier-corpus/c/*.o with the kernel's verdict on each. */
export const OBJECTS_DIR = join(CORPUS_DIR, 'c');

export interface ObjectCase {
  /** the object's file name (`bad_bounds.o`) */
  name: string;
  path: string;
  /** the kernel's verdict on the whole object (`bpftool prog loadall`): accept when every program loads */
  verdict: 'accept' | 'reject';
  /** the last line of the kernel's verifier log, for a rejection */
  kernelMessage: string | null;
}

/** Every object case, by file name, with its recorded verdict (c/verdicts.json, by test/verifier-corpus/record-c.sh). */
export function loadObjectCases(dir = OBJECTS_DIR): ObjectCase[] {
  const recorded = JSON.parse(readFileSync(join(dir, 'verdicts.json'), 'utf8')) as {
    objects: Record<string, { verdict: 'accept' | 'reject'; kernelMessage: string | null }>;
  };
  return Object.keys(recorded.objects)
    .sort()
    .map((name) => ({ name, path: join(dir, name), ...recorded.objects[name]! }));
}
