/**
 * The kernel's older verifier suite (tools/testing/selftests/bpf/verifier/*.c,
 * run by test_verifier) as verifier-corpus cases: reads dump.c's output and
 * writes test/verifier-corpus/legacy-<file>.txt, one case per program load
 * test_verifier makes (the privileged one, and the unprivileged one for the
 * program types test_verifier also runs unprivileged: socket filters,
 * cgroup_skb and unspecified).
 *
 * The instructions are written in tsbpf's assembler syntax (a `.raw` slot
 * where the listing would not assemble back to the same bits), the maps
 * test_verifier creates as `@map` lines, the kfuncs it resolves as
 * `call kfunc:NAME`. The kernel's verdict is then recorded as for every
 * corpus case (scripts/record-verifier-verdicts.sh --group legacy-).
 * Where verdicts.json already holds the kernel's verdict and it is not the
 * one the 6.12 suite expects, the case says the kernel's, with a
 * `; kernel surprise:` note.
 *
 * Run through scripts/convert-legacy-verifier.sh (which builds dump.c
 * against an unpacked kernel source).
 *   node dist/test/verifier-corpus/legacy/convert.js DUMP_FILE
 */
import { readFileSync, readdirSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { assemble } from '../../../src/isa/asm.js';
import { formatInsn, insnSlots, rawWord } from '../../../src/isa/disasm.js';
import type { Insn } from '../../../src/isa/insn.js';
import { ProgType } from '../../../src/object/spec.js';
import { CORPUS_DIR, readVerdicts, VERDICTS_FILE } from '../../support/verifier-cases.js';

interface LegacyTest {
  file: string;
  index: number;
  descr: string;
  progType: number;
  attach: number;
  flags: number;
  result: number;
  resultUnpriv: number;
  kfunc?: string;
  fill?: string;
  btf: boolean;
  funcInfo: number[];
  fixups: { kind: string; insn: number }[];
  kfixups: { name: string; insn: number }[];
  insns: Insn[];
}

/** The maps test_verifier's fixups create (do_test_fixup), in corpus syntax. */
const FIXUP_MAPS: Record<string, string> = {
  hash_8b: 'hash key=8 value=8 max=1',
  hash_48b: 'hash key=8 value=48 max=1',
  hash_16b: 'hash key=8 value=16 max=1',
  array_48b: 'array key=4 value=48 max=1',
  array_small: 'array key=4 value=1 max=1',
  array_ro: 'array key=4 value=48 max=1 flags=128',
  array_wo: 'array key=4 value=48 max=1 flags=256',
  event_output: 'perf_event_array key=4 value=4 max=1',
  ringbuf: 'ringbuf key=0 value=0 max=4096',
  sockmap: 'sockmap key=4 value=4 max=1',
  sockhash: 'sockhash key=4 value=4 max=1',
  xskmap: 'xskmap key=4 value=4 max=1',
  stacktrace: 'stack_trace key=4 value=8 max=1',
  prog1: 'prog_array key=4 value=4 max=4',
  prog2: 'prog_array key=4 value=4 max=8',
  map_in_map: 'array_of_maps key=4 value=4 max=1 inner=array:4:4:1',
};

/** Parse dump.c's output. */
export function parseDump(text: string): LegacyTest[] {
  const out: LegacyTest[] = [];
  let file = '';
  let perFile = 0;
  let cur: LegacyTest | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    switch (f[0]) {
      case 'file':
        file = f[1]!;
        perFile = 0;
        break;
      case 'test':
        cur = { file, index: perFile++, descr: f.slice(1).join('\t'), progType: 0, attach: 0, flags: 0, result: 0, resultUnpriv: 0, btf: false, funcInfo: [], fixups: [], kfixups: [], insns: [] };
        break;
      case 'prog':
        [cur!.progType, cur!.attach, cur!.flags, cur!.result, cur!.resultUnpriv] = f.slice(1).map(Number) as [number, number, number, number, number];
        break;
      case 'kfunc':
        cur!.kfunc = f[1]!;
        break;
      case 'fill':
        cur!.fill = f[1]!;
        break;
      case 'btf':
        cur!.btf = true;
        break;
      case 'funcinfo':
        cur!.funcInfo.push(Number(f[1]));
        break;
      case 'fixup':
        cur!.fixups.push({ kind: f[1]!, insn: Number(f[2]) });
        break;
      case 'kfixup':
        cur!.kfixups.push({ name: f[1]!, insn: Number(f[2]) });
        break;
      case 'insn': {
        const [code, dst, src, off, imm] = f.slice(1).map(Number) as [number, number, number, number, number];
        cur!.insns.push({ code, dst, src, off, imm });
        break;
      }
      case 'end':
        out.push(cur!);
        cur = undefined;
        break;
      case '':
        break;
      default:
        throw new Error(`dump: unknown record '${f[0]}'`);
    }
  }
  return out;
}

const PROG_NAME = new Map<number, string>(Object.entries(ProgType).map(([k, v]) => [v, k]));

/** test_verifier's prog_flags (do_test_single), without its test-only BPF_F_TEST_* defaults. */
function progFlags(flags: number): number {
  let p = 0;
  if (flags & 2) p |= 1; // F_LOAD_WITH_STRICT_ALIGNMENT: BPF_F_STRICT_ALIGNMENT
  if (flags & 1) p |= 2; // F_NEEDS_EFFICIENT_UNALIGNED_ACCESS: BPF_F_ANY_ALIGNMENT
  if (flags & ~3) p |= flags; // any other flag is passed through as it is
  return p;
}

/** test_verifier's test_as_unpriv: the program types it also loads without privileges. */
const runsUnpriv = (t: LegacyTest): boolean => t.progType === 0 || t.progType === 1 || t.progType === 8;

/** The attach target's BTF name as libbpf_find_vmlinux_btf_id looks it up for the attach type. */
function attachBtfName(t: LegacyTest): string | undefined {
  if (!t.kfunc || (t.progType !== 26 && t.progType !== 29)) return undefined;
  if (t.attach === 23) return `btf_trace_${t.kfunc}`; // BPF_TRACE_RAW_TP
  if (t.attach === 27) return `bpf_lsm_${t.kfunc}`; // BPF_LSM_MAC
  if (t.attach === 28) return `bpf_iter_${t.kfunc}`; // BPF_TRACE_ITER
  return t.kfunc;
}

/**
 * Why a test cannot be a corpus case, or undefined. These are the only
 * tests of the suite left out; each file says which and why.
 */
export function notConverted(t: LegacyTest): string | undefined {
  if (t.fill) return `test_verifier generates its program at run time (${t.fill}); the generated program is not in the source`;
  if (t.fixups.some((f) => f.kind === 'kptr')) return 'its map has BTF with kptr fields of struct prog_test_ref_kfunc, a type of the bpf_testmod selftest module';
  const mod = t.kfixups.find((k) => !VMLINUX_KFUNCS.has(k.name));
  if (mod) return `it calls ${mod.name}, a kfunc of the bpf_testmod selftest module, not of the kernel`;
  return undefined;
}

/** Kfuncs the suite calls that vmlinux itself defines (the rest are bpf_testmod's). */
const VMLINUX_KFUNCS = new Set(['bpf_dynptr_from_skb']);

export const caseName = (t: LegacyTest, unpriv = false): string => `lg_${t.file}_${t.index}${unpriv ? '_unpriv' : ''}`;

/** One slot or instruction as a line the corpus assembler turns back into the same bits. */
function insnLines(t: LegacyTest, mapIndex: Map<number, number>): string[] {
  const insns = t.insns;
  const kf = new Map(t.kfixups.map((k) => [k.insn, k.name]));
  const lines: string[] = [];
  for (let i = 0; i < insns.length; ) {
    const x = insns[i]!;
    const n = insnSlots(insns, i);
    const m = mapIndex.get(i);
    if (kf.has(i)) lines.push(`  call kfunc:${kf.get(i)!}`);
    else if (m !== undefined && n === 2) {
      // The fixed-up lddw: BPF_PSEUDO_MAP_FD (or _VALUE, offset in the second imm) of map m.
      const second = insns[i + 1]!;
      // The shorthands only where they give back the same bits (the suite also tests reserved fields).
      if (x.src === 1 && x.off === 0 && second.imm === 0) lines.push(`  r${x.dst} = map[${m}] ll`);
      else if (x.src === 2 && x.off === 0) lines.push(`  r${x.dst} = map_value[${m}]+${second.imm >>> 0} ll`);
      else lines.push(...rawLines([{ ...x, imm: m }, second]));
    } else {
      const slots = insns.slice(i, i + n);
      let text: string | undefined;
      try {
        text = formatInsn(insns, i, { dialect: 'kernel' });
        const back = assemble(text, { dialect: 'kernel' });
        if (back.length !== n || back.some((b, k) => rawWord(b) !== rawWord(slots[k]!))) text = undefined;
      } catch {
        text = undefined;
      }
      lines.push(...(text !== undefined ? [`  ${text}`] : rawLines(slots)));
    }
    i += n;
  }
  return lines;
}

const rawLines = (slots: Insn[]): string[] => slots.map((s) => `  .raw 0x${rawWord(s).toString(16).padStart(16, '0')}`);

/** The corpus text of one test_verifier test: its privileged case and, where test_verifier runs one, its unprivileged one. */
export function convertTest(t: LegacyTest, recorded: Record<string, { verdict: string; errno: string | null; kernelMessage: string | null }>): string {
  const type = PROG_NAME.get(t.progType || 1);
  if (!type) throw new Error(`${caseName(t)}: unknown program type ${t.progType}`);
  // Map indices in order of first use, one map per fixup kind (as test_verifier makes one fd per kind).
  const kinds: string[] = [];
  const mapIndex = new Map<number, number>();
  for (const f of t.fixups) {
    if (!FIXUP_MAPS[f.kind]) throw new Error(`${caseName(t)}: no map for fixup ${f.kind}`);
    if (!kinds.includes(f.kind)) kinds.push(f.kind);
    mapIndex.set(f.insn, kinds.indexOf(f.kind));
  }
  const body = insnLines(t, mapIndex);
  const opts: string[] = [`type=${type}`];
  if (t.attach) opts.push(`attach=${t.attach}`);
  const pf = progFlags(t.flags);
  if (pf) opts.push(`flags=${pf}`);
  if (t.btf || t.funcInfo.length) opts.push('btf');
  const ab = attachBtfName(t);
  if (ab) opts.push(`attach_btf=${ab}`);
  // iterator targets (bpf_iter_<target>) are not in the BTF tsbpf ships: judge them against the recorded kernel's
  if (ab && t.attach === 28) opts.push('kernel_btf');
  const out: string[] = [`# ${t.file}.c #${t.index}: ${t.descr}`];
  const variants: [boolean, number][] = [[false, t.result]];
  if (runsUnpriv(t)) variants.push([true, t.resultUnpriv || t.result]);
  for (const [unpriv, result] of variants) {
    const name = caseName(t, unpriv);
    const intended = result === 2 ? 'reject' : 'accept';
    const k = recorded[name];
    const kv = k && (k.verdict === 'accept' || k.verdict === 'reject') ? k.verdict : undefined;
    const verdict = kv ?? intended;
    out.push(`@case ${name} ${verdict} ${opts.join(' ')}${unpriv ? ' unpriv' : ''}`);
    if (kv && kv !== intended) out.push(`  ; kernel surprise: the 6.12 suite expects ${intended}, Linux ${kv}s${k!.kernelMessage ? ` (${k!.errno}: ${k!.kernelMessage})` : ''}`);
    if (kinds.length) for (const kind of kinds) out.push(`@map ${FIXUP_MAPS[kind]}`);
    else out.push('@nomaps');
    out.push(...body);
  }
  return out.join('\n') + '\n';
}

function main(argv: string[]): number {
  const dump = argv[0];
  if (!dump) {
    console.error('usage: convert.js DUMP_FILE');
    return 2;
  }
  const tests = parseDump(readFileSync(dump, 'utf8'));
  const recorded = existsSync(VERDICTS_FILE) ? readVerdicts().cases : {};
  const files = new Map<string, string[]>();
  let cases = 0;
  let skipped = 0;
  for (const t of tests) {
    const text = files.get(t.file) ?? [`# test_verifier's verifier/${t.file}.c (Linux 6.12), converted by test/verifier-corpus/legacy/convert.ts; the verdicts are the running kernel's.\n`];
    files.set(t.file, text);
    const why = notConverted(t);
    if (why) {
      text.push(`# ${t.file}.c #${t.index} (${t.descr}) is not converted: ${why}\n`);
      skipped++;
      continue;
    }
    text.push(convertTest(t, recorded));
    cases += runsUnpriv(t) ? 2 : 1;
  }
  for (const f of readdirSync(CORPUS_DIR)) if (f.startsWith('legacy-') && f.endsWith('.txt')) unlinkSync(join(CORPUS_DIR, f));
  for (const [file, text] of files) writeFileSync(join(CORPUS_DIR, `legacy-${file.replace(/_/g, '-')}.txt`), text.join('\n'));
  console.log(`converted ${tests.length - skipped} tests of ${files.size} files into ${cases} corpus cases; ${skipped} not converted (a comment in its file says why)`);
  return 0;
}

if (process.argv[1]?.endsWith('convert.js')) process.exitCode = main(process.argv.slice(2));
