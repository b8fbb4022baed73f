/**
 * The bpf_conformance runner's plugin protocol (see
 * ../shared/bpf-conformance/README.md and the suite's src/bpf_conformance.cc):
 *
 *   PLUGIN [MEMHEX] [OPTIONS]    program as one line of hex bytes on stdin
 *
 * On success r0 is printed in hex (no prefix; the runner parses it with
 * strtoull base 16) and the exit status is 0; on failure a message goes to
 * standard error and the status is 1.
 *
 * The reference runner always passes the memory argument (an empty string
 * when the test has no memory) and passes its plugin options as one argument
 * (possibly empty, possibly several options separated by spaces), so every
 * argument is split on whitespace and classified by its shape.
 */
import { INPUT_LIMITS } from '../bounded-read.js';
import { fromHex } from '../isa/insn.js';
import { parseHexBytes } from './data.js';
import { loadEngine, runRaw, CONFORMANCE_BUDGET, type EngineKind } from './runner.js';

export interface PluginResult {
  status: number;
  stdout: string;
  stderr: string;
}

const PLUGIN_USAGE = 'usage: tsbpf-conformance-plugin [MEMHEX] [--interpret|--jit]  (program as hex bytes on stdin)\n';

export async function plugin(argv: readonly string[], stdin: string): Promise<PluginResult> {
  let kind: EngineKind = 'interpret';
  const memWords: string[] = [];
  let sawMem = false;
  for (const arg of argv) {
    const words = arg.split(/\s+/).filter((w) => w !== '');
    if (words.length > 0 && words.every((w) => w.startsWith('-'))) {
      for (const w of words) {
        if (w === '--jit') kind = 'jit';
        else if (w === '--interpret') kind = 'interpret';
        else if (w === '-h' || w === '--help') return { status: 0, stdout: PLUGIN_USAGE, stderr: '' };
        else if (w === '--elf')
          return { status: 2, stdout: '', stderr: 'tsbpf-conformance-plugin: --elf (programs as ELF objects) is not supported; pass raw bytecode\n' };
        else return { status: 2, stdout: '', stderr: `tsbpf-conformance-plugin: unknown option '${w}'\n${PLUGIN_USAGE}` };
      }
    } else {
      if (words.length > 0 && sawMem) return { status: 2, stdout: '', stderr: `tsbpf-conformance-plugin: unexpected argument '${arg}'\n${PLUGIN_USAGE}` };
      if (words.length > 0) sawMem = true;
      memWords.push(...words);
    }
  }
  try {
    const mem = parseHexBytes(memWords.join(' '));
    const insns = fromHex(stdin);
    if (insns.length === 0) throw new Error('no program on standard input');
    const engine = await loadEngine(kind);
    const r0 = runRaw(insns, mem.length > 0 ? mem : undefined, engine, CONFORMANCE_BUDGET);
    return { status: 0, stdout: `${r0.toString(16)}\n`, stderr: '' };
  } catch (e) {
    return { status: 1, stdout: '', stderr: `${e instanceof Error ? e.message : String(e)}\n` };
  }
}

/** Entry point of bin/tsbpf-conformance-plugin. */
export async function pluginMain(argv: readonly string[]): Promise<number> {
  const chunks: Buffer[] = [];
  let total = 0;
  // standard input is untrusted: bounded like a program file (src/bounded-read.ts)
  for await (const c of process.stdin) {
    total += (c as Buffer).length;
    if (total > INPUT_LIMITS.program) {
      process.stderr.write(`Error: standard input: more than the ${INPUT_LIMITS.program}-byte limit for program files (E2BIG)\n`);
      return 1;
    }
    chunks.push(c as Buffer);
  }
  const r = await plugin(argv, Buffer.concat(chunks).toString('utf8'));
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  return r.status;
}
