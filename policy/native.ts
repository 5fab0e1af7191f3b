// The native addon (dist/native/chos_addon.node, built from pam/addon/ over the C core) and
// the types of its API: the one loader every Node caller uses, so tests, the CLI and the
// benchmarks run the very C code the PAM module runs. Each function type below is the
// contract pam/addon/ implements (addon.cc; sessionDecide in session.cc, constants in
// constants.cc).
import * as path from "node:path";
import type { FaultName, LayerKind, LayerName, LoginContext } from "./sdk/contract";

/** What decide() takes as the login: a LoginContext without `environments`, which the C side
 *  fills from the catalogue it loads. */
export type LoginContextInput = Omit<LoginContext, "environments">;

/** Options of decide(); the limits default to the PAM module's (policy.h). */
export interface DecideOptions {
  /** Path of the bundle (.js); a fresh `BUNDLE.qbc` beside it is used unless preferSource. */
  readonly bundle: string;
  /** Path of the catalogue (the seed's /etc/chos format). */
  readonly catalogue: string;
  /** The facts of the login. */
  readonly context: LoginContextInput;
  /** Accept files and directories not owned by root (tests, non-root builds); the mode checks
   *  still apply, to the directories above each file too. */
  readonly trustAnyOwner?: boolean;
  /** Judge the catalogue and bundle files alone, not the directories above them: for tools
   *  evaluating files they were given or built (chos-policy explain DIR, test), never a login. */
  readonly trustFileOnly?: boolean;
  /** Load the source even when a fresh bytecode file exists. */
  readonly preferSource?: boolean;
  /** Run the bundle as one script, every group file registered (what the WASM harness and
   *  explain run), not only the login's own groups' units. */
  readonly wholeBundle?: boolean;
  /** Memory limit of the sandbox in bytes (default 16 MiB). */
  readonly memoryBytes?: number;
  /** Stack limit of the sandbox in bytes (default 256 KiB). */
  readonly stackBytes?: number;
  /** Deadline for loading and running the policy, in milliseconds of the evaluating thread's
   *  CPU time, not wall time (default 100). */
  readonly timeoutMs?: number;
}

/** The trust options of parseCatalogue() and checkTree(), as in DecideOptions. */
export type TrustOptions = Pick<DecideOptions, "trustAnyOwner" | "trustFileOnly">;

/** Options of open(): those of decide() but the login, which each call of decide brings. */
export type OpenOptions = Omit<DecideOptions, "context">;

/** A policy loaded once for many evaluations (chos_policy_open): its runtime is kept, so what
 *  the policy leaves in its globals is seen by the next call. Each call has its own deadline,
 *  memory limit and console budget; after a timeout, memory or stack fault every later call is
 *  a `load` fault saying the runtime was discarded. */
export interface LoadedPolicy {
  /** Evaluates the policy for one login (chos_policy_evaluate), as decide() would; the first
   *  call's logs also hold the lines written while loading. Throws once closed. */
  decide(context: LoginContextInput): Decision;
  /** Frees the runtime now rather than when the handle is collected. */
  close(): void;
}

/** A policy fault: reported, never turned into a decision (the caller applies on_error). */
export interface PolicyFault {
  /** Its class. */
  readonly fault: FaultName;
  /** The exception text or what was wrong with the value, one line. */
  readonly message: string;
  /** The policy file running or deciding at the time ("index.ts", "policy.d/x.ts"). */
  readonly file?: string;
  /** Line in the bundle (1-based), mapped to .ts through the source map by the CLI. */
  readonly line?: number;
  /** Column in the bundle (1-based). */
  readonly column?: number;
}

/** The outcome of one evaluation. */
export interface Decision {
  /** The listed environment chosen, or null (host, denial or fault). */
  readonly env: string | null;
  /** The denial's text, when the login is denied. */
  readonly deny?: string;
  /** Why: the policy's reason, the precedence's, or the fault message. */
  readonly reason: string;
  /** The layer that decided ("site", "group:NAME", "request", "default", "host"), or "fault". */
  readonly decidedBy: LayerName | "fault";
  /** The policy file that decided (site and group layers). */
  readonly file?: string;
  /** Bundle line of the decision (from the SDK helpers' `__at`), when known. */
  readonly line?: number;
  /** Bundle column of the decision, when known. */
  readonly column?: number;
  /** Whether the bytecode file was used. */
  readonly fromBytecode: boolean;
  /** Units run in the runtime so far: the base and the files of the groups of the logins
   *  evaluated in it (1 when run whole). */
  readonly units: number;
  /** Present when the policy faulted. */
  readonly error?: PolicyFault;
  /** What the policy logged (console.*, as "policy: ...") and the engine's notices. */
  readonly logs: string[];
}

/** One catalogue entry. */
export interface CatalogueEntry {
  /** Environment name. */
  readonly name: string;
  /** Absolute path of its tree, or of its image file when image is set. */
  readonly path: string;
  /** For an OS image, which `chos setup` mounts, its filesystem: a path ending in .sqfs is squashfs, in .erofs erofs. */
  readonly image?: "squashfs" | "erofs";
  /** The image's pinned digest (sha256=HEX on its line), lowercase hex. */
  readonly sha256?: string;
}

/** A user as NSS reports it. */
export interface UserFacts {
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
  /** Group names, primary group first. */
  readonly groups: string[];
}

/** The module's on_error= values, in session.h `enum chos_on_error` order (checked against the
 *  C core's names by test/core/constants.test.ts). */
export const ON_ERROR_NAMES = ["host", "default", "deny"] as const;
export type OnErrorName = (typeof ON_ERROR_NAMES)[number];

/** The stages of a session that can fail, in session.h `enum chos_stage` order (checked like
 *  ON_ERROR_NAMES). */
export const STAGE_NAMES = ["facts", "catalogue", "policy", "apply"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Options of sessionDecide(): what pam_chos gives chos_session_decide (session.h). The
 *  catalogue, the bundle and the directories above them are judged by the full trust rule, as
 *  at a login: fixtures must be root-owned, outside world-writable directories. */
export interface SessionOptions {
  /** pam_chos's module arguments ("on_error=deny", "fail_to_default=1", ...), read by the
   *  module's own parser; the fields below override what they set. A bad one throws the
   *  module's message ('unknown argument "..."', 'bad value in "..."'). */
  readonly args?: readonly string[];
  /** The login name; NSS supplies the rest of the facts (uid, groups, home). */
  readonly user: string;
  /** PAM service (default "chos"). */
  readonly service?: string;
  readonly remoteHost?: string | null;
  readonly tty?: string | null;
  /** Catalogue path (default: the core's, constants().defaults.catalogue). */
  readonly catalogue?: string;
  /** Bundle path (default: constants().defaults.policy). */
  readonly policy?: string;
  /** What a failure leads to (default: from args, else "host"). */
  readonly onError?: OnErrorName;
  /** Decide for uid 0 too, as the module's allow_root. */
  readonly allowRoot?: boolean;
  /** The user's request: $CHOS from PAM or the process, and the name of the file in the
   *  home (the module's user_conf_file=, default ".chos"), read as the user. */
  readonly request?: { readonly pamEnv?: string; readonly processEnv?: string; readonly userConf?: string };
}

/** A session's decision (chos_session_result), nothing applied; every string is the core's. */
export interface SessionDecision {
  /** env: the session would enter `env`'s tree; host: it stays; deny: it is refused. */
  readonly outcome: "env" | "host" | "deny";
  readonly env: string | null;
  /** The tree of `env`, from the catalogue. Not checked yet: the tree's trust rule and its
   *  existence are judged when the session applies the decision (checkTree), not here. */
  readonly path: string | null;
  /** The user's request when it was a valid name, else null. */
  readonly requested: string | null;
  readonly reason: string;
  /** The layer that decided; "host" also for the root rule and the on_error fallbacks. */
  readonly layer: LayerName;
  /** The stage that failed and made on_error decide, or "none". */
  readonly failed: StageName | "none";
  /** The on_error value applied, when a stage failed. */
  readonly onError?: OnErrorName;
  /** What failed, saying what to fix, when a stage failed. */
  readonly error?: string;
  /** The policy's fault, when the policy stage failed. */
  readonly fault?: FaultName;
  /** The session's syslog line, as pam_chos writes it (chos_session_describe). */
  readonly line: string;
  /** The core's other log lines (the request reader, policy console output). */
  readonly logs: string[];
  /** Time spent deciding, in microseconds. */
  readonly micros: number;
}

/** The names, default paths and policy limits the C core defines (constants()). */
export interface CoreConstants {
  /** policy.h `enum chos_layer`, in order. */
  readonly layers: LayerKind[];
  /** policy.h `enum chos_fault` without "none", in order. */
  readonly faults: FaultName[];
  /** session.h `enum chos_on_error`, in order. */
  readonly onError: OnErrorName[];
  /** session.h `enum chos_stage` without "none", in order. */
  readonly stages: StageName[];
  /** The paths the module and `chos` use when given none. */
  readonly defaults: { readonly catalogue: string; readonly policy: string; readonly root: string };
  /** The sandbox's limits when DecideOptions gives none (policy.h CHOS_POLICY_*_DEFAULT). */
  readonly limits: Required<Pick<DecideOptions, "memoryBytes" | "stackBytes" | "timeoutMs">>;
}

/** The addon's exports. */
export interface ChosAddon {
  /** Evaluates a bundle for one login in a fresh sandbox (chos_policy_decide). Throws only for
   *  bad options or an unusable catalogue; policy faults come back in `error`. */
  decide(options: DecideOptions): Decision;
  /** Loads a bundle and its catalogue once for warm calls. Throws for bad options, an
   *  unusable catalogue, or a policy that cannot be loaded ("policy load: ..." and the like). */
  open(options: OpenOptions): LoadedPolicy;
  /** Compiles a bundle to `bundlePath + ".qbc"` (chos_policy_compile_file). */
  compile(bundlePath: string): { bytes: number };
  /** The core's SHA-256 of data, as 64 lowercase hex digits: what the bytecode header holds.
   *  On the fastest implementation (chos_sha256) unless `portable`. Throws a TypeError
   *  unless data is a Uint8Array. */
  sha256(data: Uint8Array, options?: { portable?: boolean }): string;
  /** Whether the fastest implementation here is the processor's SHA extensions. */
  sha256Accelerated(): boolean;
  /** Loads a catalogue with the trust rule; throws an Error naming the file and line. */
  parseCatalogue(path: string, options?: TrustOptions): CatalogueEntry[];
  /** The trust rule for a tree (a catalogue entry's path) and every directory above it, as a
   *  session checks it before entering; throws an Error naming the directory that fails. */
  checkTree(path: string, options?: TrustOptions): void;
  /** NSS facts of a user; throws when the user does not exist. */
  userFacts(name: string): UserFacts;
  /** The short host name. */
  hostName(): string;
  /** A login's whole decision as pam_chos makes it (chos_session_decide: facts, request,
   *  catalogue, policy, on_error, the root rule), with no namespace, mount or kmod write.
   *  Throws only for bad options; every failure of the set-up is in the result. */
  sessionDecide(options: SessionOptions): SessionDecision;
  /** The core's names, default paths and policy limits. */
  constants(): CoreConstants;
}

/** Where the build puts the addon: dist/native under the repository root (this file lives one
 *  level below the root in the sources, policy/, and in the bundled CLI, dist/). */
export const addonPath = path.resolve(__dirname, "..", "dist", "native", "chos_addon.node");

let loaded: ChosAddon | undefined;

/** The addon, loaded on first use; throws an Error saying to build it when it is missing. */
export function addon(): ChosAddon {
  if (loaded === undefined) {
    try {
      loaded = require(addonPath) as ChosAddon;
    } catch (e) {
      throw new Error(`cannot load ${addonPath} (${(e as Error).message}): run \`npm run build:native\``);
    }
  }
  return loaded;
}
