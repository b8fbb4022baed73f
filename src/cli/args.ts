/**
 * A small argument parser for the CLI: flags with values (`--mem HEX`,
 * `-o OUT`), boolean switches (`-j`), and positional words, in bpftool's
 * forgiving order (flags may come anywhere).
 */
import { parseArgs } from 'node:util';

export class CliUsageError extends Error {}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: false }>;

/** Parse `args` with Node's util.parseArgs; unknown flags are a usage error. */
export function parse(args: string[], options: OptionSpec): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { positionals, values: values as ParsedArgs['values'] };
  } catch (e) {
    throw new CliUsageError((e as Error).message);
  }
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
