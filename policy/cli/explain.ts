// `chos-policy explain DIR|BUNDLE`: where would this user land, and why? Runs the native engine
// (the PAM module's own code) on the facts of a real user (NSS) overridden by flags. A policy
// fault is reported as a fault (`error: CLASS in FILE:LINE: message`), never as a decision, and
// exits 1; the engine's deadline means it never hangs.
//
// Trust: a BUNDLE is judged as a login judges it, the file and every directory above it
// (--trust-any-owner relaxes the owner check only, never the modes), so explain shows the load
// fault an untrusted installed policy would give. A DIR is built into a private temp directory
// (under os.tmpdir(), which is world-writable) and there the bundle and the catalogue are judged
// as files alone (trustFileOnly), as `chos-policy test` does: the question is what the sources
// decide, not whether a login would trust the files; `chos setup --check` answers that one.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bundlePolicy } from "../bundle/bundle";
import { BundleMap } from "../bundle/sourcemap";
import type { SlurmJob } from "../sdk/contract";
import { parseArgs, positionals } from "./args";
import { CONTEXT_OPTIONS, type ContextInput, contextFromArgs } from "./context";
import { defaultCatalogue, type NativeDecision, native, showPosition, type TsPosition, tsPosition } from "./engine";
import type { Output } from "./io";

export const EXPLAIN_USAGE = [
  "explain DIR|BUNDLE --user NAME [--catalogue FILE] [--uid N] [--gid N] [--groups a,b] [--home H]\n" +
    "        [--shell S] [--host H] [--service S] [--requested ENV] [--json] [--trust-any-owner]\n" +
    "        [--service slurm [--job-id N] [--step S] [--partition P] [--account A] [--node N]\n" +
    "         [--submit-host H]]",
  "where NAME lands and why (facts from NSS, flags override); a policy fault exits 1",
];

/** The report of one explanation; `--json` prints exactly this object. */
export interface Explanation {
  readonly user: string;
  readonly host: string;
  readonly service: string;
  /** The Slurm step's facts, for --service slurm. */
  readonly job?: SlurmJob;
  readonly env: string | null;
  readonly deny?: string;
  readonly reason: string;
  readonly decidedBy: string;
  /** The .ts file that decided, or null for the precedence's own layers. */
  readonly file: string | null;
  /** Its line, when the decision was made by an SDK helper (use, deny, honourRequest). */
  readonly line: number | null;
  readonly fromBytecode: boolean;
  readonly logs: readonly string[];
  readonly error?: {
    readonly fault: string;
    readonly message: string;
    readonly file: string | null;
    readonly line: number | null;
  };
}

function explanation(ctx: ContextInput, d: NativeDecision, map: BundleMap | undefined): Explanation {
  const at: TsPosition | null = d.error ? null : tsPosition(map, d.file, d.line, d.column);
  const base = {
    user: ctx.user.name,
    host: ctx.host.name,
    service: ctx.service,
    ...(ctx.job !== undefined ? { job: ctx.job } : {}),
    env: d.env,
    ...(d.deny !== undefined ? { deny: d.deny } : {}),
    reason: d.reason,
    decidedBy: d.decidedBy,
    file: at?.file ?? null,
    line: at?.line ?? null,
    fromBytecode: d.fromBytecode,
    logs: d.logs,
  };
  if (!d.error) return base;
  const where = tsPosition(map, d.error.file, d.error.line, d.error.column);
  return {
    ...base,
    error: { fault: d.error.fault, message: d.error.message, file: where?.file ?? null, line: where?.line ?? null },
  };
}

function printText(e: Explanation, io: Output): void {
  for (const line of e.logs) io.out(line);
  if (e.error) {
    const where = e.error.file === null ? "" : ` in ${showPosition({ file: e.error.file, line: e.error.line })}`;
    io.err(`error: ${e.error.fault}${where}: ${e.error.message}`);
    return;
  }
  const outcome = e.deny !== undefined ? "denied" : (e.env ?? "host (no switch)");
  const step = e.job === undefined ? "" : `, job ${e.job.id} step ${e.job.step} in ${e.job.partition ?? "?"}`;
  io.out(`${e.user} on ${e.host} (${e.service}${step}): ${outcome}`);
  io.out(`  reason     ${e.deny ?? (e.reason || "(none given)")}`);
  io.out(`  decidedBy  ${e.decidedBy}`);
  if (e.file !== null) io.out(`  source     ${showPosition({ file: e.file, line: e.line })}`);
  io.out(`  loaded     ${e.fromBytecode ? "bytecode" : "source"}`);
}

export async function explain(argv: readonly string[], io: Output): Promise<number> {
  const args = parseArgs("explain", argv, {
    strings: ["catalogue", ...CONTEXT_OPTIONS],
    booleans: ["json", "trust-any-owner"],
  });
  const [target] = positionals("explain", args, ["DIR|BUNDLE"]);
  const context = contextFromArgs("explain", args);
  const catalogue = path.resolve(args.strings.get("catalogue") ?? defaultCatalogue());
  const fromDir = fs.statSync(target, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const temp = fromDir ? fs.mkdtempSync(path.join(os.tmpdir(), "chos-explain-")) : undefined;
  try {
    const bundle = temp ? (await bundlePolicy(target, path.join(temp, "policy.js"))).bundle : path.resolve(target);
    const decision = native().decide({
      bundle,
      catalogue,
      context,
      trustAnyOwner: args.booleans.has("trust-any-owner"),
      trustFileOnly: fromDir,
      preferSource: fromDir,
    });
    const e = explanation(context, decision, BundleMap.load(bundle));
    if (args.booleans.has("json")) io.out(JSON.stringify(e, null, 2));
    else printText(e, io);
    return e.error ? 1 : 0;
  } finally {
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  }
}
