// The login context a command evaluates: the facts of a real user from NSS (through the addon,
// the same code the PAM module uses), overridden by command-line flags.
import type { LoginContext, LoginRequest } from "../sdk/contract";
import { integerOption, type ParsedArgs, UsageError } from "./args";
import { native } from "./engine";

/** A LoginContext without `environments`: the C side fills those from the catalogue. */
export type ContextInput = Omit<LoginContext, "environments">;

/** The flags that override facts. */
export const CONTEXT_OPTIONS = [
  "user",
  "uid",
  "gid",
  "groups",
  "home",
  "shell",
  "host",
  "service",
  "requested",
] as const;

/** Builds the context of `--user NAME` plus overriding flags. */
export function contextFromArgs(command: string, args: ParsedArgs): ContextInput {
  const name = args.strings.get("user");
  if (name === undefined) throw new UsageError(`${command}: --user NAME is required`);
  let facts: ReturnType<ReturnType<typeof native>["userFacts"]> | undefined;
  try {
    facts = native().userFacts(name);
  } catch {
    facts = undefined;
  }
  const uid = integerOption(command, args, "uid") ?? facts?.uid;
  const gid = integerOption(command, args, "gid") ?? facts?.gid;
  const groupsFlag = args.strings.get("groups");
  const groups = groupsFlag !== undefined ? groupsFlag.split(",").filter((g) => g !== "") : facts?.groups;
  if (uid === undefined || gid === undefined || groups === undefined) {
    throw new UsageError(`${command}: no user "${name}" on this host: give --uid, --gid and --groups`);
  }
  const requestedEnv = args.strings.get("requested");
  const requested: LoginRequest | null = requestedEnv === undefined ? null : { env: requestedEnv, from: "env" };
  return {
    user: {
      name,
      uid,
      gid,
      home: args.strings.get("home") ?? facts?.home ?? `/home/${name}`,
      shell: args.strings.get("shell") ?? facts?.shell ?? "/bin/sh",
      groups,
    },
    host: { name: args.strings.get("host") ?? native().hostName() },
    service: args.strings.get("service") ?? "sshd",
    remoteHost: null,
    tty: null,
    requested,
  };
}
