// npm run bench:policy — what one policy evaluation costs, native (the PAM module's C code,
// through the addon) vs WASM (quickjs-emscripten), for a generated policy of 100 group files
// bundled to about 50 KB. Cold = runtime + load + call + free, as at every login; warm = one
// more call into an already loaded bundle (the addon's open().decide, WasmSession.call).
// Medians in microseconds; target: cold native from bytecode under 500 µs.
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { buildPolicy } from "../policy/cli/build";
import { native } from "../policy/cli/engine";
import { WasmSession, wasmDecide } from "../policy/harness/wasm";

const GROUPS = 100;
const RUNS = { native: 300, wasm: 60, warm: 500 };

// Each group file: a host table and a few rules, about 450 bytes of bundle, like a real one.
function groupFile(i: number): string {
  const hosts = Array.from({ length: 4 }, (_, k) => `"n${i}-${k}*"`).join(", ");
  return `import { deny, hostMatches, honourRequest, use, type Decision, type LoginContext } from "chos-policy/sdk";
const HOSTS = [${hosts}];
export default function group${i}(ctx: LoginContext): Decision {
  if (ctx.service === "su" && ctx.user.uid < ${1000 + i}) return deny("group ${i}: su is not for system accounts");
  if (hostMatches(ctx, ...HOSTS)) return use("tiny", "group ${i} runs on its own nodes with tiny");
  return honourRequest(ctx, ["trixie", "tiny"]) ?? use("trixie", "group ${i} default");
}
`;
}

function writePolicy(dir: string): void {
  fs.mkdirSync(path.join(dir, "policy.d"), { recursive: true });
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    `import { hostMatches, use, type Decision, type LoginContext } from "chos-policy/sdk";
export default (ctx: LoginContext): Decision => (hostMatches(ctx, "build*") ? use("trixie", "build node") : null);
`,
  );
  for (let i = 0; i < GROUPS; i++)
    fs.writeFileSync(path.join(dir, "policy.d", `g${String(i).padStart(3, "0")}.ts`), groupFile(i));
  fs.writeFileSync(path.join(dir, "chos.conf"), "%SHELLS\ntrixie:/srv/trixie\ntiny:/srv/tiny\ndefault:/srv/trixie\n");
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(runs: number, fn: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push((performance.now() - start) * 1000);
  }
  return median(samples);
}

function cell(us: number | undefined): string {
  return us === undefined ? "n/a" : us.toFixed(0);
}

async function main(): Promise<void> {
  // Not under os.tmpdir(): the trust rule refuses a bundle below a world-writable directory.
  const dir = fs.mkdtempSync("/var/lib/chos-bench-");
  try {
    writePolicy(dir);
    const bundle = path.join(dir, "out", "policy.js");
    const sizes = await buildPolicy(dir, bundle);
    const catalogue = path.join(dir, "chos.conf");
    const context = {
      user: { name: "alice", uid: 2001, gid: 2001, home: "/home/alice", shell: "/bin/sh", groups: ["g042", "g099"] },
      host: { name: "n12" },
      service: "sshd",
      remoteHost: null,
      tty: null,
      requested: null,
    };
    const input = { ...context, environments: ["trixie", "tiny", "default"] };
    const source = fs.readFileSync(bundle, "utf8");
    const addon = native();
    const opts = { bundle, catalogue, context, trustAnyOwner: true };

    const check = addon.decide(opts);
    if (check.error || !check.fromBytecode || check.env !== "trixie") {
      throw new Error(`the generated policy did not decide from bytecode: ${JSON.stringify(check)}`);
    }
    const nativeBytecode = await time(RUNS.native, () => addon.decide(opts));
    const nativeSource = await time(RUNS.native, () => addon.decide({ ...opts, preferSource: true }));
    const wasmSource = await time(RUNS.wasm, () => wasmDecide(source, input));
    const loaded = addon.open({ bundle, catalogue, trustAnyOwner: true });
    const nativeWarm = await time(RUNS.warm, () => loaded.decide(context));
    loaded.close();
    const { session } = await WasmSession.open(source);
    const wasmWarm = await time(RUNS.warm, () => session.call(input));
    session.close();

    const rows: [string, number | undefined, number | undefined][] = [
      ["cold, from bytecode", nativeBytecode, undefined],
      ["cold, from source", nativeSource, wasmSource],
      ["warm call", nativeWarm, wasmWarm],
    ];
    const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
    console.log(
      `policy: ${GROUPS} group files; bundle ${kb(sizes.bundle)}, bytecode ${kb(sizes.bytecode)}; medians in µs`,
    );
    console.log(`${"".padEnd(22)}${"native".padStart(10)}${"wasm".padStart(10)}${"wasm/native".padStart(14)}`);
    for (const [label, n, w] of rows) {
      const ratio = n !== undefined && w !== undefined ? `${(w / n).toFixed(1)}x` : "";
      console.log(`${label.padEnd(22)}${cell(n).padStart(10)}${cell(w).padStart(10)}${ratio.padStart(14)}`);
    }
    console.log(`native: bytecode vs source ${(nativeSource / nativeBytecode).toFixed(1)}x faster`);
    console.log("n/a: quickjs-emscripten cannot load QuickJS bytecode");
    const verdict = nativeBytecode < 500 ? "met" : "MISSED";
    console.log(`target cold native from bytecode < 500 µs: ${verdict} (${nativeBytecode.toFixed(0)} µs)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:policy: ${(e as Error).message}`);
  process.exitCode = 1;
});
