// `chos-policy test DIR [CASES]`: table-driven policy tests, run on the native engine (the PAM
// module's code) and on the WASM harness; both must agree. Reports like OPA: failures only
// unless --verbose, FAIL (a case's expectation not met) apart from ERROR (a policy fault nobody
// expected, or the engines disagree), a `PASS: n/total` summary, --json, exit 1 on any failure.
// Then it names the policy files and the decision sites (use/deny/honourRequest calls) that no
// case exercised.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPolicyDir } from "../bundle/policy-dir";
import { BundleMap } from "../bundle/sourcemap";
import { type WasmOutcome, wasmDecide } from "../harness/wasm";
import { disagreement } from "./agree";
import { parseArgs, positionals } from "./args";
import { buildPolicy } from "./build";
import { type Case, loadCases } from "./cases";
import { type NativeDecision, native, showPosition, type TsPosition, tsPosition } from "./engine";
import type { Output } from "./io";
import { type DecisionSite, decisionSites, policyFiles } from "./sites";

export const TEST_USAGE = [
  "test DIR [CASES] [--verbose] [--json]",
  "run CASES (default DIR/cases.json) on the native and the WASM engine",
];

type Status = "PASS" | "FAIL" | "ERROR";

export interface CaseResult {
  readonly name: string;
  readonly status: Status;
  /** Why it failed or errored. */
  readonly message?: string;
  readonly env: string | null;
  readonly deny?: string;
  readonly decidedBy: string;
  /** Where the decision or the fault was, in the .ts. */
  readonly at: string | null;
  readonly fault?: string;
}

export interface TestReport {
  readonly total: number;
  readonly pass: number;
  readonly fail: number;
  readonly error: number;
  readonly results: readonly CaseResult[];
  /** Policy files no case's decision came from. */
  readonly filesNotExercised: readonly string[];
  /** Decision sites no case's decision came from, as "FILE:LINE call". */
  readonly sitesNotExercised: readonly string[];
}

function faultText(d: NativeDecision, at: TsPosition | null): string {
  return `${d.error?.fault} fault${at ? ` in ${showPosition(at)}` : ""}: ${d.error?.message}`;
}

function verdict(
  c: Case,
  n: NativeDecision,
  w: WasmOutcome,
  at: TsPosition | null,
): { status: Status; message?: string } {
  const split = disagreement(n, w);
  if (split !== undefined) return { status: "ERROR", message: split };
  const e = c.expect;
  if (n.error && e.fault === undefined) return { status: "ERROR", message: faultText(n, at) };
  const wrong: string[] = [];
  if (e.fault !== undefined && n.error?.fault !== e.fault)
    wrong.push(`fault: got ${n.error?.fault ?? "none"}, want ${e.fault}`);
  if (e.env !== undefined && n.env !== e.env)
    wrong.push(`env: got ${n.env ?? "null (host)"}, want ${e.env ?? "null (host)"}`);
  if (e.deny !== undefined && n.deny !== e.deny)
    wrong.push(`deny: got ${n.deny === undefined ? "none" : JSON.stringify(n.deny)}, want ${JSON.stringify(e.deny)}`);
  if (e.decidedBy !== undefined && n.decidedBy !== e.decidedBy)
    wrong.push(`decidedBy: got ${n.decidedBy}, want ${e.decidedBy}`);
  if (wrong.length === 0) return { status: "PASS" };
  return { status: "FAIL", message: `${wrong.join("; ")}${at ? ` (at ${showPosition(at)})` : ""}` };
}

/** The site a decision at `pos` came from: same file and line, the last one starting at or before it. */
function siteOf(
  sites: readonly DecisionSite[],
  pos: { file: string; line: number; column: number },
): DecisionSite | undefined {
  const onLine = sites.filter((s) => s.file === pos.file && s.line === pos.line);
  return onLine.filter((s) => s.column <= pos.column).pop() ?? onLine[0];
}

/** Runs the cases of `casesFile` against the policy in `dir`. */
export async function runCases(dir: string, casesFile: string): Promise<TestReport> {
  const policy = readPolicyDir(dir);
  const cases = loadCases(casesFile);
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "chos-test-"));
  try {
    const bundle = path.join(temp, "policy.js");
    await buildPolicy(policy.dir, bundle);
    const source = fs.readFileSync(bundle, "utf8");
    const map = BundleMap.load(bundle);
    // Trust is not what a policy test is about: the bundle is ours (in a temp dir under the
    // world-writable os.tmpdir()) and the catalogue a fixture, so each is judged as a file alone.
    const trust = { trustAnyOwner: true, trustFileOnly: true } as const;
    const environments = native()
      .parseCatalogue(cases.catalogue, trust)
      .map((e) => e.name);
    const sites = decisionSites(policy);
    const decidedFiles = new Set<string>();
    const usedSites = new Set<DecisionSite>();
    const results: CaseResult[] = [];
    for (const c of cases.cases) {
      const n = native().decide({ bundle, catalogue: cases.catalogue, context: c.context, ...trust });
      const w = await wasmDecide(source, { ...c.context, environments });
      const at = n.error
        ? tsPosition(map, n.error.file, n.error.line, n.error.column)
        : tsPosition(map, n.file, n.line, n.column);
      if (!n.error && n.file) decidedFiles.add(n.file);
      const mapped = !n.error && n.line && map ? map.position(n.line, n.column ?? 1) : undefined;
      const site = mapped ? siteOf(sites, mapped) : undefined;
      if (site) usedSites.add(site);
      const { status, message } = verdict(c, n, w, at);
      results.push({
        name: c.name,
        status,
        ...(message !== undefined ? { message } : {}),
        env: n.env,
        ...(n.deny !== undefined ? { deny: n.deny } : {}),
        decidedBy: n.decidedBy,
        at: at ? showPosition(at) : null,
        ...(n.error ? { fault: n.error.fault } : {}),
      });
    }
    const count = (s: Status): number => results.filter((r) => r.status === s).length;
    return {
      total: results.length,
      pass: count("PASS"),
      fail: count("FAIL"),
      error: count("ERROR"),
      results,
      filesNotExercised: policyFiles(policy).filter((f) => !decidedFiles.has(f)),
      sitesNotExercised: sites.filter((s) => !usedSites.has(s)).map((s) => `${s.file}:${s.line} ${s.call}`),
    };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

function printReport(report: TestReport, verbose: boolean, io: Output): void {
  for (const r of report.results) {
    if (r.status === "PASS" && !verbose) continue;
    const outcome = r.fault ? `${r.fault} fault` : r.deny !== undefined ? "denied" : (r.env ?? "host");
    io.out(`${r.status.padEnd(5)} ${r.name}${r.status === "PASS" ? ` (${outcome} by ${r.decidedBy})` : ""}`);
    if (r.message !== undefined) io.out(`      ${r.message}`);
  }
  io.out("-".repeat(72));
  io.out(`PASS: ${report.pass}/${report.total}`);
  if (report.fail > 0) io.out(`FAIL: ${report.fail}/${report.total}`);
  if (report.error > 0) io.out(`ERROR: ${report.error}/${report.total}`);
  for (const f of report.filesNotExercised) io.out(`not exercised: ${f} (no case was decided there)`);
  for (const s of report.sitesNotExercised) io.out(`not exercised: ${s} (no case's decision came from this call)`);
}

export async function test(argv: readonly string[], io: Output): Promise<number> {
  const args = parseArgs("test", argv, { booleans: ["verbose", "json"], aliases: { v: "verbose" } });
  const [dir, casesArg] = positionals("test", args, ["DIR", "CASES"], 1);
  const report = await runCases(dir, casesArg ?? path.join(dir, "cases.json"));
  if (args.booleans.has("json")) io.out(JSON.stringify(report, null, 2));
  else printReport(report, args.booleans.has("verbose"), io);
  return report.fail + report.error > 0 ? 1 : 0;
}
