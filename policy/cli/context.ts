// The login context a command evaluates: the facts of a real user from NSS (through the addon,
// the same code the PAM module uses), overridden by command-line flags.
import type { LoginContext, LoginRequest, SlurmJob } from "../sdk/contract";
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
  // A Slurm job step (service "slurm"): the SDK's SlurmJob
  "job-id",
  "step",
  "partition",
  "account",
  "node",
  "submit-host",
] as const;

const JOB_OPTIONS = ["job-id", "step", "partition", "account", "node", "submit-host"] as const;

/** The job of `--service slurm` (or of any job flag, which implies it); undefined otherwise. */
function jobFromArgs(command: string, args: ParsedArgs, service: string, host: string): SlurmJob | undefined {
  const given = JOB_OPTIONS.filter((o) => args.strings.has(o));
  if (service !== "slurm") {
    if (given.length > 0) throw new UsageError(`${command}: --${given[0]} describes a Slurm step: add --service slurm`);
    return undefined;
  }
  return {
    id: integerOption(command, args, "job-id") ?? 1,
    step: args.strings.get("step") ?? "0",
    partition: args.strings.get("partition") ?? null,
    account: args.strings.get("account") ?? null,
    node: args.strings.get("node") ?? host,
    submitHost: args.strings.get("submit-host") ?? null,
  };
}

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
  const host = args.strings.get("host") ?? native().hostName();
  const service = args.strings.get("service") ?? "sshd";
  const job = jobFromArgs(command, args, service, host);
  return {
    user: {
      name,
      uid,
      gid,
      home: args.strings.get("home") ?? facts?.home ?? `/home/${name}`,
      shell: args.strings.get("shell") ?? facts?.shell ?? "/bin/sh",
      groups,
    },
    host: { name: host },
    service,
    remoteHost: null,
    tty: null,
    requested,
    ...(job === undefined ? {} : { job }),
  };
}
