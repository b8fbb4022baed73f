/**
 * A small argument parser for the CLI: flags with values (`--mem HEX`,
 * `-o OUT`), boolean switches (`-j`), and positional words, in bpftool's
 * forgiving order (flags may come anywhere).
 *
 * The grammar and the messages are those of Node's `util.parseArgs` in strict mode with
 * positionals allowed (the contract the CLI was written against; test/cli-args.test.ts compares
 * the two on every form), written out here because parseArgs costs every command about 3.5 M
 * instructions of start-up: Node compiles its internal parse_args modules at first use, where
 * this one comes from the bundle's code cache (issue 17; BENCHMARKS.md, "Start-up").
 */

export class CliUsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: false }>;

/** Parse `args` as util.parseArgs({ args, options, allowPositionals: true, strict: true }) does; unknown flags are a usage error. */
export function parse(args: string[], options: OptionSpec): ParsedArgs {
  const values: ParsedArgs['values'] = Object.create(null) as ParsedArgs['values'];
  const positionals: string[] = [];
  const typeOf = (name: string): 'string' | 'boolean' | undefined => (Object.hasOwn(options, name) ? options[name]!.type : undefined);
  /** the long name of a short one (itself when no option has it) */
  const longOf = (short: string): string => {
    for (const name in options) if (Object.hasOwn(options, name) && options[name]!.short === short) return name;
    return short;
  };
  /** One option as parseArgs checks and stores it: `inline` when its value came in the same word. */
  const option = (name: string, rawName: string, value: string | undefined, inline: boolean): void => {
    if (!Object.hasOwn(options, name)) {
      throw new CliUsageError(
        `Unknown option '${rawName}'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- ${JSON.stringify(rawName)}`,
      );
    }
    const { type, short } = options[name]!;
    const shortAndLong = `${short ? `-${short}, ` : ''}--${name}`;
    if (type === 'string' && value === undefined) throw new CliUsageError(`Option '${shortAndLong} <value>' argument missing`);
    if (type === 'boolean' && value !== undefined) throw new CliUsageError(`Option '${shortAndLong}' does not take an argument`);
    if (!inline && value !== undefined && value.length > 1 && value[0] === '-') {
      const example = rawName.startsWith('--') ? `'${rawName}=-XYZ'` : `'--${name}=-XYZ' or '${rawName}-XYZ'`;
      throw new CliUsageError(
        `Option '${rawName}' argument is ambiguous.\nDid you forget to specify the option argument for '${rawName}'?\nTo specify an option argument starting with a dash use ${example}.`,
      );
    }
    if (name !== '__proto__') values[name] = value ?? true;
  };
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === '--') {
      positionals.push(...rest);
      break;
    }
    if (arg.length < 2 || arg[0] !== '-') {
      positionals.push(arg);
      continue;
    }
    if (arg[1] !== '-') {
      const short = arg[1]!;
      const name = longOf(short);
      if (arg.length === 2) {
        // -x, and its value in the next word when it takes one
        option(name, arg, typeOf(name) === 'string' ? rest.shift() : undefined, false);
      } else if (typeOf(name) === 'string') {
        option(name, `-${short}`, arg.slice(2), true); // -xVALUE
      } else {
        // a group, -jp: each switch alone; a value-taking one inside takes the rest of the word
        const expanded: string[] = [];
        for (let i = 1; i < arg.length; i++) {
          if (typeOf(longOf(arg[i]!)) !== 'string' || i === arg.length - 1) expanded.push(`-${arg[i]}`);
          else {
            expanded.push(`-${arg.slice(i)}`);
            break;
          }
        }
        rest.unshift(...expanded);
      }
      continue;
    }
    if (arg.length === 2) {
      positionals.push(arg); // (unreachable: '--' is above)
      continue;
    }
    const eq = arg.indexOf('=', 3);
    if (eq < 0) {
      const name = arg.slice(2);
      option(name, arg, typeOf(name) === 'string' ? rest.shift() : undefined, false); // --name [VALUE]
    } else {
      const name = arg.slice(2, eq);
      option(name, `--${name}`, arg.slice(eq + 1), true); // --name=VALUE
    }
  }
  return { positionals, values };
}

/** The common switches every command accepts. */
export const JSON_OPTS: OptionSpec = {
  json: { type: 'boolean', short: 'j' },
  pretty: { type: 'boolean', short: 'p' },
};

/** JSON output as bpftool's json_writer gives it: one line, or with -p indented by four spaces. */
export function jsonText(value: unknown, pretty: unknown): string {
  return JSON.stringify(value, null, pretty ? 4 : undefined) + '\n';
}
