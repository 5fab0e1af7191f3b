// The one argument parser of the CLI: `--name value`, `--name=value`, `-o value`, boolean flags,
// positionals. Misuse throws a UsageError naming the exact problem, not the whole help.

/** A mistake on the command line; main prints its message and `chos-policy help`'s pointer. */
export class UsageError extends Error {}

/** The options a command takes: string-valued or boolean, with optional one-letter aliases. */
export interface OptionSpec {
  readonly strings?: readonly string[];
  readonly booleans?: readonly string[];
  readonly aliases?: Readonly<Record<string, string>>;
}

/** Parsed arguments: positionals in order, options by name. */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly strings: Map<string, string>;
  readonly booleans: Set<string>;
}

export function parseArgs(command: string, argv: readonly string[], spec: OptionSpec): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], strings: new Map(), booleans: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const raw = eq > 0 ? arg.slice(0, eq) : arg;
    const name = raw.startsWith("--") ? raw.slice(2) : (spec.aliases?.[raw.slice(1)] ?? "");
    if (spec.booleans?.includes(name)) {
      if (eq > 0) throw new UsageError(`${command}: ${raw} takes no value`);
      parsed.booleans.add(name);
    } else if (spec.strings?.includes(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${command}: ${raw} needs a value`);
      if (parsed.strings.has(name)) throw new UsageError(`${command}: ${raw} given twice`);
      parsed.strings.set(name, value);
    } else {
      throw new UsageError(`${command}: unknown option ${raw}`);
    }
  }
  return parsed;
}

/** Exactly `count` positionals (or between min and max), else a UsageError naming what is wanted. */
export function positionals(command: string, args: ParsedArgs, names: readonly string[], optional = 0): string[] {
  const min = names.length - optional;
  if (args.positionals.length < min) throw new UsageError(`${command}: missing ${names[args.positionals.length]}`);
  if (args.positionals.length > names.length) {
    throw new UsageError(`${command}: unexpected argument "${args.positionals[names.length]}"`);
  }
  return args.positionals;
}

/** A non-negative integer option, or undefined when absent. */
export function integerOption(command: string, args: ParsedArgs, name: string): number | undefined {
  const text = args.strings.get(name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${command}: --${name} wants a non-negative integer, not "${text}"`);
  }
  return Number(text);
}
