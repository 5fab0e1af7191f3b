// Issue 7, item 3: a corrupted BUNDLE.qbc (a bad disk, a partial write, a bad copy) must never
// crash or hang a login. A real bundle is compiled, then copied with many corruptions: 1-4
// bytes changed anywhere (header included), truncations, appended bytes, all from a seeded
// PRNG (the seed is in the test name). Each copy is evaluated through the real core in a child
// process (decide-each.cjs), so a crash kills the child and a hang trips a watchdog, never jest.
// Every evaluation must give the source's decision, with the fallback logged.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Decision } from "../../policy/native";
import {
  ALICE,
  bundleSource,
  native,
  type PolicySources,
  withDir,
  withDirAsync,
  writeCatalogue,
  writeFile,
} from "../core/lib";

const SEED = Number(process.env.CHOS_MUTATION_SEED ?? 0x7c05eed);
const FLIPS = 4000;
const TRUNCATIONS = 500;
const APPENDS = 500;
const TOTAL = FLIPS + TRUNCATIONS + APPENDS;
/** An evaluation takes milliseconds; this long without one means the child hangs. */
const WATCHDOG_MS = 5000;
/** Enough to prove the point on a broken loader without waiting for every hang. */
const MAX_DEATHS = 40;
/** Bytes of the pack's header compared before its own SHA-256 (magic, QuickJS version): a change
 *  there is "stale or foreign", anywhere else "corrupt" (policy_pack.h). */
const HEADER_CHECKED = 8 + 16;

const POLICY: PolicySources = {
  prelude: 'const closed = new Set(["sl5", "rh7"]); const compute = /^n[0-9]+$/;',
  site: `if (closed.has(ctx.requested?.env ?? "")) return { deny: \`\${ctx.requested.env} is closed\` };
if (compute.test(ctx.host.name) && ctx.user.uid >= 1000) return { env: "el9", reason: "compute node " + ctx.host.name };
return null;`,
  groups: { physics: 'return { env: "sl7", reason: "physics runs on sl7" };' },
};

/** mulberry32: small, seedable, the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Corruption {
  readonly what: string;
  readonly bytes: Buffer;
  /** Whether the stale/foreign check (rather than the SHA-256 of the bytecode) must catch it. */
  readonly stale: boolean;
}

function corruptions(qbc: Buffer, seed: number): Corruption[] {
  const rand = prng(seed);
  const below = (n: number) => Math.floor(rand() * n);
  const out: Corruption[] = [];
  for (let i = 0; i < FLIPS; i++) {
    const bytes = Buffer.from(qbc);
    const at = new Set<number>();
    for (let n = 1 + below(4); at.size < n; ) at.add(below(qbc.length));
    for (const p of at) bytes[p] ^= 1 + below(255); // never 0: each chosen byte changes
    const offsets = [...at].sort((x, y) => x - y);
    out.push({ what: `bytes ${offsets.join(",")} changed`, bytes, stale: offsets[0] < HEADER_CHECKED });
  }
  for (let i = 0; i < TRUNCATIONS; i++) {
    const length = below(qbc.length);
    out.push({ what: `truncated to ${length} bytes`, bytes: qbc.subarray(0, length), stale: true });
  }
  for (let i = 0; i < APPENDS; i++) {
    const extra = Buffer.from(Array.from({ length: 1 + below(64) }, () => below(256)));
    out.push({ what: `${extra.length} bytes appended`, bytes: Buffer.concat([qbc, extra]), stale: true });
  }
  return out;
}

type Failure = { index: number; what: string; problem: string };

type Result = { index: number; decision: Decision };

/** Runs decide-each.cjs from index first; resolves with its results and how it ended. */
function runChild(options: object, dir: string, first: number): Promise<{ results: Result[]; end: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(__dirname, "decide-each.cjs"), JSON.stringify(options), dir, String(first)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const results: Result[] = [];
    let pending = "";
    let stderr = "";
    let hung = false;
    const kill = (): void => {
      hung = true;
      child.kill("SIGKILL");
    };
    let watchdog = setTimeout(kill, WATCHDOG_MS);
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) results.push(JSON.parse(line) as Result);
      clearTimeout(watchdog);
      watchdog = setTimeout(kill, WATCHDOG_MS);
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (status, signal) => {
      clearTimeout(watchdog);
      const end = hung
        ? `hang (no result for ${WATCHDOG_MS} ms)`
        : signal
          ? `crash (${signal})`
          : status
            ? `exit ${status}: ${stderr.slice(-300)}`
            : null;
      resolve({ results, end });
    });
  });
}

/** The parts of a decision that must not depend on where the code came from. */
function outcome(d: Decision) {
  return JSON.parse(
    JSON.stringify({ env: d.env, deny: d.deny, reason: d.reason, decidedBy: d.decidedBy, error: d.error }),
  ) as object;
}

describe("loading under the deadline", () => {
  // QuickJS never polls the interrupt handler while compiling or in JS_ReadObject, so the
  // deadline cannot stop a load; but its clock runs from before the load, so the code that
  // follows a slow load gets only what is left. A 50,000-step loop alone fits in 5 ms; after
  // compiling 5,000 statements (tens of ms) it is a timeout fault.
  const loop = "for (let i = 0; i < 50000; i++) {}";
  const prelude = Array.from({ length: 5000 }, (_, i) => `var v${i} = [${i}, "s${i}", { k: ${i} }];`).join("\n");

  test("the time spent compiling counts against the policy's deadline", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const options = { catalogue, context: ALICE, trustAnyOwner: true, timeoutMs: 5 };
      const quick = writeFile(
        path.join(dir, "quick.js"),
        bundleSource({ prelude: loop, site: 'return { env: "sl7" };' }),
      );
      expect(native.decide({ ...options, bundle: quick })).toMatchObject({ env: "sl7" });
      const slow = writeFile(
        path.join(dir, "slow.js"),
        bundleSource({ prelude: `${prelude}\n${loop}`, site: 'return { env: "sl7" };' }),
      );
      expect(native.decide({ ...options, bundle: slow, timeoutMs: 10000 })).toMatchObject({ env: "sl7" });
      expect(native.decide({ ...options, bundle: slow }).error).toEqual({
        fault: "timeout",
        message: "the policy ran longer than 5 ms",
      });
    }));
});

describe("corrupted bytecode", () => {
  test(`${TOTAL} corrupted copies of a real .qbc (PRNG seed 0x${SEED.toString(16)}, CHOS_MUTATION_SEED to change it) never crash or hang, and each falls back to the source with one log line`, () =>
    withDirAsync(async (dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource(POLICY));
      native.compile(bundle);
      const qbc = fs.readFileSync(`${bundle}.qbc`);
      const options = { bundle, catalogue, context: ALICE, trustAnyOwner: true };
      const expected = outcome(native.decide({ ...options, preferSource: true }));
      expect(expected).toMatchObject({ env: "el9", reason: "compute node n12" });
      expect(native.decide(options)).toMatchObject({ ...expected, fromBytecode: true, logs: [] });

      const cases = corruptions(qbc, SEED);
      const mutants = path.join(dir, "mutants");
      fs.mkdirSync(mutants);
      for (const [i, c] of cases.entries()) writeFile(path.join(mutants, `${String(i).padStart(5, "0")}.qbc`), c.bytes);
      const stale = `${bundle}.qbc: stale or foreign (not built from this bundle by QuickJS 2025-04-26); using the source: run \`chos-policy build\``;
      const corrupt = new RegExp(
        `^${bundle.replace(/[.]/g, "\\.")}\\.qbc: corrupt \\([^)]+\\); using the source: run \`chos-policy build\`$`,
      );

      const deaths: Failure[] = []; // crashes and hangs
      const wrong: Failure[] = []; // evaluations that did not give the source's decision and log
      for (let first = 0; first < cases.length && deaths.length < MAX_DEATHS; ) {
        const { results, end } = await runChild(options, mutants, first);
        for (const { index, decision } of results) {
          const c = cases[index];
          const got = { ...outcome(decision), fromBytecode: decision.fromBytecode, logs: decision.logs };
          const logged =
            decision.logs.length === 1 && (c.stale ? decision.logs[0] === stale : corrupt.test(decision.logs[0]));
          const want = { ...expected, fromBytecode: false, logs: decision.logs };
          if (!logged || JSON.stringify(got) !== JSON.stringify(want))
            wrong.push({ index, what: c.what, problem: `decided ${JSON.stringify(got)}` });
        }
        first += results.length;
        if (end !== null && first < cases.length) {
          deaths.push({ index: first, what: cases[first].what, problem: end });
          first++;
        }
      }
      const report = { seed: SEED, deaths, wrong: wrong.length, firstWrong: wrong.slice(0, 10) };
      expect(report).toEqual({ seed: SEED, deaths: [], wrong: 0, firstWrong: [] });
    }));
});
