// The chos-policy command: one module per command; this file only dispatches and turns a
// thrown error into one line on stderr and a non-zero exit.
import { UsageError } from "./args";
import { BUILD_USAGE, build } from "./build";
import { CHECK_USAGE, check } from "./check";
import { EXPLAIN_USAGE, explain } from "./explain";
import type { Output } from "./io";
import { TEST_USAGE, test } from "./test";

type Command = (argv: readonly string[], io: Output) => Promise<number>;

const COMMANDS: ReadonlyMap<string, Command> = new Map([
  ["build", build],
  ["check", check],
  ["explain", explain],
  ["test", test],
]);

const HELP = [
  "usage: chos-policy COMMAND ...",
  ...[BUILD_USAGE, CHECK_USAGE, EXPLAIN_USAGE, TEST_USAGE].flatMap(([usage, what]) => [`  ${usage}`, `      ${what}`]),
];

/** Runs one command line; returns the exit code (0 ok, 1 failure or fault, 2 misuse). */
export async function run(argv: readonly string[], io: Output): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    for (const l of HELP) io.out(l);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.get(name);
  if (command === undefined) {
    io.err(
      `chos-policy: unknown command "${name}" (commands: ${[...COMMANDS.keys()].join(", ")}; see chos-policy help)`,
    );
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`chos-policy ${e.message} (see chos-policy help)`);
      return 2;
    }
    const [first, ...rest] = (e as Error).message.split("\n");
    io.err(`chos-policy ${name}: ${first}`);
    for (const line of rest) io.err(line);
    return 1;
  }
}
