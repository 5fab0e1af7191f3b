// The policy contract: the one definition of what a site policy receives and returns.
// pam/core/facts/context.h emits LoginContext as JSON and pam/core/policy/policy.c checks every Decision
// against these shapes; the WASM harness and the CLI are typed against them too.

/** The account that is logging in, as NSS reports it. */
export interface LoginUser {
  /** Login name. */
  readonly name: string;
  /** Numeric user id. */
  readonly uid: number;
  /** Numeric primary group id. */
  readonly gid: number;
  /** Home directory. */
  readonly home: string;
  /** Login shell. */
  readonly shell: string;
  /** Group names, primary group first, then the others in NSS order. In a Slurm step
   *  (`service: "slurm"`), the groups of the step's credential, which its tasks run with:
   *  slurmctld looks them up once for the job, so a node whose NSS lists other memberships
   *  does not change them; the names still come from the node's NSS. */
  readonly groups: readonly string[];
}

/** The machine the login happens on. */
export interface LoginHost {
  /** Short host name (cut at the first dot). */
  readonly name: string;
}

/** Where the user's own request came from: `$CHOS`, the file `~/.chos`, or a Slurm job's
 *  `--chos=ENV` option (srun, sbatch, salloc). */
export type RequestSource = "env" | "file" | "option";

/** How a request's source is named in reasons: `$CHOS`, `~/.chos`, `--chos`. */
export function requestSourceName(from: RequestSource): string {
  return from === "env" ? "$CHOS" : from === "file" ? "~/.chos" : "--chos";
}

/** The environment the user asked for. */
export interface LoginRequest {
  /** Requested environment name (already checked to be a well-formed name). */
  readonly env: string;
  /** Where the request was read. */
  readonly from: RequestSource;
}

/** A Slurm job step being started on a compute node (service "slurm", spank_chos). The ids
 *  are slurmstepd's; partition, account, submit host and the node's name are what the job's
 *  environment reports, which its owner can change: never grant more on them than a request
 *  (`host.name` is the node's own). */
export interface SlurmJob {
  /** Job id. */
  readonly id: number;
  /** Step id: "0", "1", ..., or "batch" (the batch script), "interactive". */
  readonly step: string;
  /** Partition the job runs in, as reported by the job; null when it does not say. */
  readonly partition: string | null;
  /** Account the job is charged to, as reported by the job; null when it does not say. */
  readonly account: string | null;
  /** This node's Slurm name (`slurmd -N`; usually the short host name), as reported. */
  readonly node: string;
  /** Host the job was submitted from, as reported by the job; null when it does not say. */
  readonly submitHost: string | null;
}

/** Every fact a policy may base its decision on. */
export interface LoginContext {
  /** The user logging in. */
  readonly user: LoginUser;
  /** The host being logged in to. */
  readonly host: LoginHost;
  /** PAM service: "sshd", "su", "login", "chos", ...; "slurm" for a Slurm job step. */
  readonly service: string;
  /** Remote host reported by PAM, or null for a local login. */
  readonly remoteHost: string | null;
  /** Terminal, or null when there is none. */
  readonly tty: string | null;
  /** The user's request (a job's --chos, else $CHOS, else ~/.chos at a login), or null. */
  readonly requested: LoginRequest | null;
  /** The job step, present for service "slurm" only. */
  readonly job?: SlurmJob;
  /** Environment names listed in the catalogue (/etc/chos %SHELLS), in file order. */
  readonly environments: readonly string[];
}

/** Send the user into a listed environment. */
export interface UseDecision {
  /** Environment name; must be listed in the catalogue. */
  readonly env: string;
  /** Why, for the log line and `chos-policy explain`. */
  readonly reason?: string;
  /** Never set: a decision either uses an environment or denies (the C side rejects both). */
  readonly deny?: never;
}

/** Refuse the login. */
export interface DenyDecision {
  /** Why, for the log line and the user's error message. */
  readonly deny: string;
  /** Never set: a denial names no environment. */
  readonly env?: never;
  /** Never set: the denial's text is its reason. */
  readonly reason?: never;
}

/** What a policy returns: an environment, a denial, or no opinion (null or undefined). */
export type Decision = UseDecision | DenyDecision | null | undefined;

/** The default export of `index.ts` and of every `policy.d/<group>.ts`. */
export type PolicyFunction = (ctx: LoginContext) => Decision;

/** The layer kinds the precedence reports to the C sandbox, in policy.h `enum chos_layer`
 *  order (test/core/constants.test.ts checks this list against the C core's names). */
export const LAYER_KINDS = ["site", "group", "request", "default", "host"] as const;

/** A layer kind, as the precedence reports it. */
export type LayerKind = (typeof LAYER_KINDS)[number];

/** Layer names as printed everywhere (`decidedBy`, the log line's `layer=`): the kind, and a
 *  group layer as `group:NAME`. */
export type LayerName = Exclude<LayerKind, "group"> | `group:${string}`;

/** The printed name of a layer: the TypeScript twin of policy.h `chos_decision_layer`, for
 *  code that has no C core at hand (the WASM harness). */
export function layerName(kind: LayerKind, group?: string): LayerName {
  return kind === "group" ? `group:${group ?? ""}` : kind;
}

/** Policy fault classes as printed everywhere (policy.h `enum chos_fault`). */
export type FaultName = "load" | "throw" | "timeout" | "memory" | "stack" | "shape" | "unlisted";

/** Every fault class, in policy.h order, for run-time checks and reports (checked against the
 *  C core's names like LAYER_KINDS). */
export const FAULT_NAMES: readonly FaultName[] = ["load", "throw", "timeout", "memory", "stack", "shape", "unlisted"];

/** What the bundle's `__chos.decide` returns: the layer that decided and what it returned. */
export interface PrecedenceResult {
  /** Which layer decided. */
  readonly layer: LayerKind;
  /** The group whose file decided, for layer "group". */
  readonly group?: string;
  /** The policy file that decided ("index.ts", "policy.d/physics.ts"), for site and group. */
  readonly file?: string;
  /** The decision as the layer returned it; the C sandbox validates it. */
  readonly value: unknown;
}

/** The object every bundle installs as `globalThis.__chos` (see pam/core/policy/policy.h). */
export interface BundleGlobal {
  /** Runs the precedence for one login. */
  decide(ctx: LoginContext): PrecedenceResult;
  /** The policy file running now, read after a fault to say which file faulted. */
  current: string | undefined;
}
