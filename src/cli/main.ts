/**
 * The `tsbpf` command: bpftool's grammar (`tsbpf prog load|show|dump|run`,
 * `tsbpf map dump|lookup|update|delete`, `tsbpf btf dump`) plus tsbpf's own
 * (`asm`, `disasm`, `run`, `conformance`, `object`, `xdp`, `demo`).
 *
 * Each command lives in `commands/<name>.ts` (or `commands/<object>-<verb>.ts`
 * for bpftool-style object/verb pairs) and exports
 * `run(args: string[]): Promise<number>` returning the exit status. They are
 * loaded lazily so that `tsbpf asm` does not pay for the JIT or the hooks.
 */
import { TsbpfError } from '../errors.js';
import { CliUsageError } from './args.js';

interface CommandModule {
  run(args: string[]): Promise<number>;
  usage?: string;
}

/** Top-level words, and for object/verb commands the verbs each object takes. */
const COMMANDS: Record<string, string[] | null> = {
  asm: null,
  disasm: null,
  run: null,
  conformance: null,
  object: ['show'],
  btf: ['dump', 'show'],
  link: ['show'],
  prog: ['load', 'show', 'dump', 'run'],
  map: ['dump', 'lookup', 'update', 'delete', 'show'],
  xdp: null,
  demo: null,
};

const USAGE = `Usage: tsbpf [-j] COMMAND ...

  tsbpf asm FILE [-o OUT]                 assemble (kernel log syntax or the conformance %r dialect)
  tsbpf disasm FILE                       disassemble raw bytecode or an object file
  tsbpf run FILE [--mem HEX]              run a raw program in the interpreter
  tsbpf conformance [DIR]                 run a bpf_conformance suite directory
  tsbpf object show FILE [-j]             list the programs and maps of an object file
  tsbpf btf dump FILE [format c|raw]      print an object's BTF
  tsbpf prog load FILE [PROG] [--log-level N]
  tsbpf prog dump xlated|jited FILE PROG
  tsbpf prog run FILE PROG --data-in F [--data-out F] [--ctx-in F] [--repeat N] [-j]
  tsbpf map dump|lookup|update|delete PINNED ...
  tsbpf xdp FILE PROG --pcap IN [--write OUT]
  tsbpf xdp FILE PROG --tap NAME [--pass-to NAME2]   xdp on a TAP device as a NIC (root)
  tsbpf demo                              an HTTP server with bundled probes attached
`;

async function load(name: string): Promise<CommandModule | undefined> {
  try {
    return (await import(new URL(`./commands/${name}.js`, import.meta.url).href)) as CommandModule;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.js`))
      return undefined;
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.length === 0 || args[0] === '-h' || args[0] === '--help' || args[0] === 'help') {
    process.stdout.write(USAGE);
    return args.length === 0 ? 1 : 0;
  }
  // bpftool accepts -j / --json before the command too; pass it on.
  const global: string[] = [];
  while (args[0] === '-j' || args[0] === '--json' || args[0] === '-p' || args[0] === '--pretty') global.push(args.shift()!);
  const word = args.shift()!;
  if (!(word in COMMANDS)) {
    process.stderr.write(`tsbpf: unknown command '${word}'\n${USAGE}`);
    return 2;
  }
  let moduleName = word;
  const verbs = COMMANDS[word];
  if (verbs) {
    const verb = args.shift();
    if (!verb || !verbs.includes(verb)) {
      process.stderr.write(`tsbpf ${word}: expected one of ${verbs.join('|')}\n`);
      return 2;
    }
    moduleName = `${word}-${verb}`;
  }
  const mod = await load(moduleName);
  if (!mod) {
    process.stderr.write(`tsbpf: '${moduleName.replace('-', ' ')}' is not available in this build\n`);
    return 2;
  }
  try {
    return await mod.run([...global, ...args]);
  } catch (e) {
    if (e instanceof CliUsageError) {
      process.stderr.write(`tsbpf ${moduleName.replace('-', ' ')}: ${e.message}\n${mod.usage ?? ''}`);
      return 2;
    }
    if (e instanceof TsbpfError) {
      process.stderr.write(`Error: ${e.message} (${e.errno})\n`);
      return 1;
    }
    throw e;
  }
}
