/**
 * Ask the running kernel for the verdict on every corpus case (through
 * kloader.c) and either write them to verdicts.json (--write) or check the
 * recorded ones still hold (--check). Run through
 * scripts/record-verifier-verdicts.sh, which builds kloader first; needs root.
 *
 *   node dist/test/verifier-corpus/record.js --kloader PATH (--write | --check) [--only a,b,c] [--group PREFIX]
 *
 * --group PREFIX: only the cases of the files whose name starts with PREFIX
 * (e.g. `legacy-`, the kernel's older suite converted by legacy/convert.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { kernelMessageFragment, loadCorpus, kloaderInput, readVerdicts, unjudged, VERDICTS_FILE, type CorpusCase, type KernelVerdict, type VerdictsFile } from '../support/verifier-cases.js';

interface Raw {
  verdict: 'accept' | 'reject' | 'error';
  errno: string | null;
  message: string | null;
}

function unprivDisabled(): number | null {
  try {
    return Number(readFileSync('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').trim());
  } catch {
    return null;
  }
}

const PRIV_SUFFIX = '__as_root';

/** Run the cases through kloader; unprivileged cases also run as root (name + PRIV_SUFFIX). */
export function kernelVerdicts(kloader: string, cases: readonly CorpusCase[]): Map<string, KernelVerdict> {
  let input = '';
  for (const c of cases) {
    input += kloaderInput(c);
    if (!c.privileged) input += kloaderInput(c, c.name + PRIV_SUFFIX, true);
  }
  const r = spawnSync(kloader, [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`kloader exited with ${r.status}: ${r.stderr}`);
  const raw = new Map<string, Raw>();
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('RESULT ')) continue;
    const [name, verdict, errno, message] = line.slice(7).split('\t') as [string, Raw['verdict'], string, string];
    raw.set(name, { verdict, errno: errno === '-' ? null : errno, message: message === '-' ? null : message });
  }
  const disabled = unprivDisabled();
  const out = new Map<string, KernelVerdict>();
  for (const c of cases) {
    const k = raw.get(c.name);
    if (!k || k.verdict === 'error') {
      console.log(`ERROR ${c.group}.txt:${c.line} ${c.name}: kloader could not run it: ${k ? `${k.errno} ${k.message}` : 'no result'}`);
      continue;
    }
    if (!c.privileged && disabled !== 0 && k.verdict === 'reject' && k.errno === 'EPERM') {
      const p = raw.get(c.name + PRIV_SUFFIX);
      if (!p || p.verdict === 'error') throw new Error(`kloader could not run ${c.name} as root`);
      out.set(c.name, {
        verdict: 'unpriv: kernel disabled',
        errno: 'EPERM',
        kernelMessage: null,
        privileged: { verdict: p.verdict, errno: p.errno, kernelMessage: p.message },
      });
    } else out.set(c.name, { verdict: k.verdict, errno: k.errno, kernelMessage: k.message });
  }
  return out;
}


/**
 * Cases whose verdict differs between builds of the same Linux version, with
 * the reason. Both 6.18.44 builds this project has run on load the corpus;
 * the one it was recorded on (fc-v769) gives kprobe programs JIT private
 * stacks (bpf_enable_priv_stack: a frame of 64 bytes or more does not count
 * toward the 512-byte combined stack), the later one (fc-v1272) does not and
 * refuses "combined stack size of 3 calls is 768". tsbpf models the recorded
 * build; a difference here is reported as a note, not a failure.
 */
const BUILD_DEPENDENT: Record<string, string> = {
  uns_combined_stack_kprobe_three_256: 'JIT private stacks for kprobe programs',
  // the legacy suite's sleepable programs: refused here with EPERM and no log (the fentry target is
  // not on this build's error-injection list, the BPF LSM's hooks depend on the boot's lsm= list)
  lg_sleepable_0: 'sleepable fentry targets: the error-injection list (CONFIG_FUNCTION_ERROR_INJECTION)',
  lg_sleepable_1: 'sleepable fexit targets: the error-injection list (CONFIG_FUNCTION_ERROR_INJECTION)',
  lg_sleepable_2: 'sleepable fmod_ret targets: the error-injection list (CONFIG_FUNCTION_ERROR_INJECTION)',
  lg_sleepable_4: 'sleepable lsm programs: whether the BPF LSM is active (lsm= at boot)',
};

function main(argv: string[]): number {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const kloader = arg('--kloader');
  const write = argv.includes('--write');
  const check = argv.includes('--check');
  const only = arg('--only')?.split(',');
  const group = arg('--group');
  if (!kloader || !existsSync(kloader) || write === check) {
    console.error('usage: record.js --kloader PATH (--write | --check) [--only a,b,c] [--group PREFIX]');
    return 2;
  }
  let cases = loadCorpus();
  if (only) cases = cases.filter((c) => only.includes(c.name));
  if (group) cases = cases.filter((c) => c.group.startsWith(group));
  const got = kernelVerdicts(kloader, cases);
  const kernel = release();
  if (write) {
    const prev: VerdictsFile | undefined = existsSync(VERDICTS_FILE) ? readVerdicts() : undefined;
    const file: VerdictsFile = { kernel, unprivilegedBpfDisabled: unprivDisabled(), cases: (only || group) && prev ? { ...prev.cases } : {} };
    let surprises = 0;
    for (const c of cases) {
      const k = got.get(c.name);
      if (!k) continue;
      file.cases[c.name] = k;
      const v = k.verdict === 'unpriv: kernel disabled' ? undefined : k.verdict;
      if (c.derived && unjudged(k)) continue;
      if (v && v !== c.expect) {
        surprises++;
        console.log(`surprise: ${c.group}.txt:${c.line} ${c.name}: intended ${c.expect}, kernel ${v}${k.kernelMessage ? ` (${k.errno}: ${k.kernelMessage})` : ''}`);
      }
      if (v === 'reject' && c.messages.length && !k.kernelMessage?.includes(kernelMessageFragment(c)!))
        console.log(`surprise: ${c.group}.txt:${c.line} ${c.name}: the kernel's message '${k.kernelMessage}' lacks '${kernelMessageFragment(c)}'`);
      if (!v && k.privileged?.verdict === 'reject' && c.expect === 'accept')
        console.log(`surprise: ${c.group}.txt:${c.line} ${c.name}: intended accept unprivileged, but root is refused (${k.privileged.kernelMessage})`);
    }
    // Keep corpus order, so diffs of the file stay readable.
    const order = loadCorpus().map((c) => c.name);
    const sorted: Record<string, KernelVerdict> = {};
    for (const n of order) if (file.cases[n]) sorted[n] = file.cases[n]!;
    file.cases = sorted;
    writeFileSync(VERDICTS_FILE, JSON.stringify(file, null, 1) + '\n');
    console.log(`recorded ${cases.length} verdicts from Linux ${kernel} into ${VERDICTS_FILE} (${surprises} differ from the intended verdict)`);
    return 0;
  }
  const rec = readVerdicts();
  let bad = 0;
  let buildNotes = 0;
  let errnoDiffs = 0;
  let derivedConfirmed = 0;
  for (const c of cases) {
    const r = rec.cases[c.name];
    const k = got.get(c.name);
    if (!k) {
      bad++;
      continue;
    }
    if (!r) {
      console.log(`MISSING ${c.name}: no recorded verdict (kernel: ${k.verdict})`);
      bad++;
      continue;
    }
    // Where unprivileged loading is disabled, compare the privileged verdicts of those cases.
    const rv = r.verdict === 'unpriv: kernel disabled' ? r.privileged : r;
    const kv = k.verdict === 'unpriv: kernel disabled' ? k.privileged : k;
    if (r.verdict !== k.verdict && (r.verdict === 'unpriv: kernel disabled') !== (k.verdict === 'unpriv: kernel disabled')) {
      console.log(`note ${c.name}: recorded '${r.verdict}', this kernel '${k.verdict}' (unprivileged_bpf_disabled differs)`);
      continue;
    }
    if (c.derived && kv) {
      // A verdict derived from the source: this kernel either still refuses the program type
      // unjudged, or judges it, and then must give the derived verdict (the derivation is checked).
      if (unjudged(kv)) continue;
      if (kv.verdict === c.expect) {
        console.log(`note ${c.name}: this kernel judges it and confirms the derived verdict (${kv.verdict})`);
        derivedConfirmed++;
      } else {
        console.log(`DIFFERS ${c.group}.txt:${c.line} ${c.name}: derived ${c.expect}, kernel ${kv.verdict} (${kv.errno ?? ''} ${kv.kernelMessage ?? ''})`);
        bad++;
      }
      continue;
    }
    if (rv?.verdict !== kv?.verdict && BUILD_DEPENDENT[c.name]) {
      console.log(`note ${c.name}: recorded ${rv?.verdict}, this kernel ${kv?.verdict}: depends on the kernel's build (${BUILD_DEPENDENT[c.name]})`);
      buildNotes++;
    } else if (rv?.verdict !== kv?.verdict) {
      console.log(`DIFFERS ${c.group}.txt:${c.line} ${c.name}: recorded ${rv?.verdict}, kernel ${kv?.verdict} (${kv?.errno ?? ''} ${kv?.kernelMessage ?? ''})`);
      bad++;
    } else if (kv?.verdict === 'reject' && c.messages.length && !kv.kernelMessage?.includes(kernelMessageFragment(c)!)) {
      console.log(`DIFFERS ${c.group}.txt:${c.line} ${c.name}: the kernel's message '${kv.kernelMessage}' lacks '${kernelMessageFragment(c)}'`);
      bad++;
    } else if (rv?.errno !== kv?.errno) {
      console.log(`note ${c.name}: errno recorded ${rv?.errno}, kernel ${kv?.errno}`);
      errnoDiffs++;
    }
  }
  console.log(`kernel ${kernel} (recorded on ${rec.kernel}): ${cases.length - bad} of ${cases.length} recorded verdicts hold, ${bad} differ, ${errnoDiffs} errno notes, ${buildNotes} build-dependent, ${derivedConfirmed} derived verdicts confirmed`);
  return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
