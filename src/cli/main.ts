/**
 * The `tsbpf` command: bpftool's grammar (`tsbpf prog load|show|dump|run`,
 * `tsbpf map create|pin|show|dump|lookup|update|delete`, `tsbpf btf dump`,
 * `tsbpf version`, `help` everywhere) plus tsbpf's own (`asm`, `disasm`,
 * `run`, `conformance`, `object`, `xdp`, `demo`).
 *
 * Each command lives in `commands/<name>.ts` (or `commands/<object>-<verb>.ts`
 * for bpftool-style object/verb pairs) and exports
 * `run(args: string[]): Promise<number>` returning the exit status, and its
 * `usage`. They are loaded lazily so that `tsbpf asm` does not pay for the
 * JIT or the hooks.
 *
 * Every failure ends here as one line (report.ts): the errno name, no stack
 * trace unless `--debug` / `-d` or TSBPF_DEBUG=1 asks for it.
 */
import { CliUsageError } from './args.js';
import { debugEnabled, report } from './report.js';

interface CommandModule {
  run(args: string[]): Promise<number>;
  usage?: string;
}

/** Top-level words, and for object/verb commands the verbs each object takes. */
export const COMMANDS: Record<string, string[] | null> = {
  asm: null,
  disasm: null,
  run: null,
  conformance: null,
  object: ['show'],
  btf: ['dump', 'show'],
  link: ['show'],
  prog: ['load', 'loadall', 'show', 'dump', 'run'],
  map: ['create', 'pin', 'show', 'dump', 'lookup', 'update', 'delete'],
  xdp: null,
  demo: null,
  export: null,
  playground: null,
  version: null,
};

/** bpftool's synonyms. */
const VERB_ALIASES: Record<string, string> = { list: 'show' };

const USAGE = `Usage: tsbpf [OPTIONS] COMMAND ...
       tsbpf COMMAND help          (or --help / -h anywhere: that command's usage)

  tsbpf asm FILE [-o OUT]                 assemble (kernel log syntax or the conformance %r dialect)
  tsbpf disasm FILE                       disassemble raw bytecode or an object file
  tsbpf run FILE [--mem HEX]              run a raw program in the interpreter or the JIT
  tsbpf conformance [DIR]                 run a bpf_conformance suite directory
  tsbpf object show FILE                  list the programs and maps of an object file
  tsbpf btf dump FILE [format c|raw]      print an object's BTF (or vmlinux's)
  tsbpf prog load FILE [PROG]             verify, with the kernel's log and an explanation
  tsbpf prog show FILE [PROG]             the programs of an object as they load (id, tag, sizes, maps)
  tsbpf prog dump xlated|jited FILE PROG  the program as loaded; the WebAssembly the JIT emits
  tsbpf prog run FILE PROG data_in F ...  BPF_PROG_TEST_RUN (--kernel: in the running kernel)
  tsbpf prog load FILE PATH --kernel      load into the kernel, pin the first program (loadall: every one)
  tsbpf map create FILE type TYPE key N value N entries N name NAME
  tsbpf map pin OBJ name MAP FILE         pin a map of an object file (its initial contents)
  tsbpf map show|dump pinned FILE
  tsbpf map lookup|update|delete pinned FILE key BYTES [value BYTES]
  tsbpf map dump|lookup|update|delete id N ...   a kernel map (also 'pinned PATH' in a bpffs)
  tsbpf prog|map|link|btf show [id N]     the running kernel's objects, as bpftool lists them
  tsbpf xdp FILE PROG --pcap IN [--write OUT]
  tsbpf xdp FILE PROG --tap NAME [--pass-to NAME2]   xdp on a TAP device as a NIC (root)
  tsbpf export CONFIG [--port N]          serve maps and program stats as Prometheus metrics
  tsbpf demo                              an HTTP server with bundled probes attached
  tsbpf playground [--port N]             serve the browser playground locally
  tsbpf version                           tsbpf's version and features

  OPTIONS := { -j|--json [-p|--pretty] | -d|--debug | -V|--version | -h|--help }
    -j  JSON output (bpftool's field names); -p pretty-printed JSON
    -d  --debug: the whole verifier log (prog load), stack traces of internal errors
        (also TSBPF_DEBUG=1)
`;

/**
 * Each command's module, imported on first use. Written out (not built from the name) so that a
 * bundler sees every command and splits each into its own chunk (docs/architecture.md, "Start-up").
 */
export const MODULES: Record<string, () => Promise<CommandModule>> = {
  asm: () => import('./commands/asm.js'),
  disasm: () => import('./commands/disasm.js'),
  run: () => import('./commands/run.js'),
  conformance: () => import('./commands/conformance.js'),
  'object-show': () => import('./commands/object-show.js'),
  'btf-dump': () => import('./commands/btf-dump.js'),
  'btf-show': () => import('./commands/btf-show.js'),
  'link-show': () => import('./commands/link-show.js'),
  'prog-load': () => import('./commands/prog-load.js'),
  'prog-loadall': () => import('./commands/prog-loadall.js'),
  'prog-show': () => import('./commands/prog-show.js'),
  'prog-dump': () => import('./commands/prog-dump.js'),
  'prog-run': () => import('./commands/prog-run.js'),
  'map-create': () => import('./commands/map-create.js'),
  'map-pin': () => import('./commands/map-pin.js'),
  'map-show': () => import('./commands/map-show.js'),
  'map-dump': () => import('./commands/map-dump.js'),
  'map-lookup': () => import('./commands/map-lookup.js'),
  'map-update': () => import('./commands/map-update.js'),
  'map-delete': () => import('./commands/map-delete.js'),
  xdp: () => import('./commands/xdp.js'),
  demo: () => import('./commands/demo.js'),
  export: () => import('./commands/export.js'),
  playground: () => import('./commands/playground.js'),
  version: () => import('./commands/version.js'),
};

/** The module names COMMANDS leads to (`prog-run` for `prog run`), for the test that every one has a module. */
export function commandModules(): string[] {
  return Object.entries(COMMANDS).flatMap(([word, verbs]) => (verbs ? verbs.map((v) => `${word}-${v}`) : [word]));
}

async function load(name: string): Promise<CommandModule | undefined> {
  if (!Object.hasOwn(MODULES, name)) return undefined;
  const importer = MODULES[name]!;
  try {
    return await importer();
  } catch (e) {
    // a build that leaves a command out (its file deleted): "not available in this build"
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}.js`))
      return undefined;
    throw e;
  }
}

const GLOBAL_SWITCHES = new Set(['-j', '--json', '-p', '--pretty']);
const DEBUG_SWITCHES = new Set(['-d', '--debug']);
const HELP_SWITCHES = new Set(['-h', '--help']);

/** The usage of an object (`tsbpf prog help`): every verb's. */
async function groupUsage(word: string, verbs: string[]): Promise<string> {
  const parts: string[] = [];
  for (const v of verbs) {
    const mod = await load(`${word}-${v}`);
    if (mod?.usage) parts.push(mod.usage.trimEnd());
  }
  return parts.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.some((a) => GLOBAL_SWITCHES.has(a));
  // -d / --debug is global: stripped here, seen through TSBPF_DEBUG by the commands that use it.
  if (argv.some((a) => DEBUG_SWITCHES.has(a))) process.env.TSBPF_DEBUG = '1';
  const debug = debugEnabled(argv);
  const args = argv.filter((a) => !DEBUG_SWITCHES.has(a));
  let command = 'tsbpf';
  try {
    // bpftool accepts -j / -p before the command too; pass them on.
    const global: string[] = [];
    while (args[0] !== undefined && (GLOBAL_SWITCHES.has(args[0]) || args[0] === '-V' || args[0] === '--version')) {
      const a = args.shift()!;
      if (a === '-V' || a === '--version') args.unshift('version');
      else global.push(a);
      if (args[0] === 'version') break;
    }
    if (args.length === 0) {
      process.stderr.write(USAGE);
      return 2;
    }
    if (HELP_SWITCHES.has(args[0]!) || args[0] === 'help') {
      const topic = args[1];
      const verbs = topic ? COMMANDS[topic] : undefined;
      if (topic && Object.hasOwn(COMMANDS, topic)) process.stdout.write(verbs ? await groupUsage(topic, verbs) : ((await load(topic))?.usage ?? USAGE));
      else process.stdout.write(USAGE);
      return 0;
    }
    const word = args.shift()!;
    command = word;
    if (!Object.hasOwn(COMMANDS, word)) throw new CliUsageError(`unknown command '${word}'`);
    let moduleName = word;
    const verbs = COMMANDS[word];
    if (verbs) {
      const given = args.shift();
      if (given === undefined || given === 'help' || HELP_SWITCHES.has(given)) {
        const text = await groupUsage(word, verbs);
        if (given === undefined) {
          process.stderr.write(text);
          return 2;
        }
        process.stdout.write(text);
        return 0;
      }
      const verb = VERB_ALIASES[given] ?? given;
      command = `${word} ${verb}`;
      if (!verbs.includes(verb)) throw new CliUsageError(`unknown verb '${given}': expected one of ${verbs.join('|')}`);
      moduleName = `${word}-${verb}`;
    }
    const mod = await load(moduleName);
    if (!mod) throw new CliUsageError(`'${command}' is not available in this build`);
    // `tsbpf prog run help`, `tsbpf asm --help`, `-h` anywhere: the command's usage.
    if (args[0] === 'help' || args.some((a) => HELP_SWITCHES.has(a))) {
      process.stdout.write(mod.usage ?? USAGE);
      return 0;
    }
    return await mod.run([...global, ...args]);
  } catch (e) {
    return report(e, command, { json, debug });
  }
}

/** bin/tsbpf reports what escapes main() (a throw from a callback after it returned) with the same function. */
export { report } from './report.js';
