// `npm run bench:images` (root): an OS image against the same tree as a directory, both on this
// machine's disk. The trixie test tree is packed by `chos image build`; a catalogue lists it
// twice, `dir` (the directory) and `img` (the image, which `chos setup` mounts), and each round
// drops the page, dentry and inode caches before every command, then times, inside a session
// (`chos run ENV`), `find /usr | wc -l` and `ls -lR /usr`. Rounds alternate the two trees so
// drift hits both alike. Prints medians, the image/directory ratio, and the sizes. Everything
// runs in a private mount namespace: setup's mounts and the loop device die with it. The
// figures are printed, never asserted.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildPolicy, q, REPO } from "../test/chos/lib/fixture";

const ROUNDS = 5;
const CHOS = path.join(REPO, "dist/native/chos");
const WORKLOADS = { find: "find /usr | wc -l", lsR: "ls -lR /usr >/dev/null" } as const;
const TREES = ["dir", "img"] as const;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function trixieTree(dir: string): string {
  // scripts/make-trees prints `name path` lines (the cached trees' real paths).
  const made = execFileSync(path.join(REPO, "scripts/make-trees"), [path.join(dir, "trees")], { encoding: "utf8" });
  const line = made.split("\n").find((l) => l.startsWith("trixie "));
  if (!line) throw new Error(`make-trees listed no trixie tree:\n${made}`);
  return line.slice("trixie ".length);
}

/** One bash script for the namespace: setup, then per round and tree and workload a cold
 * timed run, printing "TREE WORKLOAD NANOSECONDS". */
function script(site: { catalogue: string; policy: string; root: string }): string {
  const opts = ["--catalogue", site.catalogue, "--policy", site.policy, "--root", site.root].map(q).join(" ");
  const runs: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? [...TREES].reverse() : TREES;
    for (const tree of order)
      for (const [name, cmd] of Object.entries(WORKLOADS))
        runs.push(
          `sync; echo 3 >/proc/sys/vm/drop_caches; t0=$(date +%s%N); ${q(CHOS)} run ${opts} ${tree} -- sh -c ${q(cmd)} >/dev/null || exit 1; echo "${tree} ${name} $(($(date +%s%N) - t0))"`,
        );
  }
  return [`set -e`, `${q(CHOS)} setup --backend namespace ${opts} >/dev/null`, `set +e`, ...runs].join("\n");
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error("bench:images needs root (mounts, drop_caches)");
  const dir = fs.mkdtempSync("/var/lib/chos-bench-images-");
  try {
    fs.chmodSync(dir, 0o755);
    const tree = trixieTree(dir);
    const image = path.join(dir, "trixie.sqfs");
    const t0 = process.hrtime.bigint();
    const built = spawnSync(CHOS, ["image", "build", tree, "-o", image], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`chos image build: ${built.stderr}`);
    const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    buildPolicy(dir);
    const catalogue = path.join(dir, "catalogue");
    fs.writeFileSync(catalogue, `%SHELLS\ndir:${tree}\nimg:${image}\ndefault:${tree}\n`, { mode: 0o644 });
    const site = { catalogue, policy: path.join(dir, "policy.js"), root: path.join(dir, "root") };
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "--", "bash", "-c", script(site)], {
      encoding: "utf8",
      maxBuffer: 1 << 24,
    });
    if (r.status !== 0) throw new Error(`bench:images failed (${r.status}):\n${r.stdout}${r.stderr}`);
    const samples = new Map<string, number[]>();
    for (const line of r.stdout.trim().split("\n")) {
      const [treeName, workload, ns] = line.split(" ");
      const key = `${treeName} ${workload}`;
      samples.set(key, [...(samples.get(key) ?? []), Number(ns) / 1e6]);
    }
    const treeBytes = Number(
      execFileSync("du", ["-sb", "--one-file-system", tree], { encoding: "utf8" }).split("\t")[0],
    );
    const imageBytes = fs.statSync(image).size;
    console.log(`bench:images: ${tree} (trixie minbase) as a directory and as ${path.basename(image)}, cold caches`);
    console.log(`rounds: ${ROUNDS}, each command after sync + drop_caches, inside chos run ENV (medians)`);
    console.log("");
    console.log("| workload | directory ms | image ms | image / directory |");
    console.log("|---|---|---|---|");
    for (const [name, cmd] of Object.entries(WORKLOADS)) {
      const d = median(samples.get(`dir ${name}`) ?? []);
      const i = median(samples.get(`img ${name}`) ?? []);
      console.log(
        `| \`${cmd.replace(" >/dev/null", "")}\` | ${d.toFixed(0)} | ${i.toFixed(0)} | ${(i / d).toFixed(2)} |`,
      );
    }
    console.log("");
    console.log(
      `size: tree ${(treeBytes / 2 ** 20).toFixed(1)} MiB (du -sb), image ${(imageBytes / 2 ** 20).toFixed(1)} MiB (zstd): ${(imageBytes / treeBytes).toFixed(2)} of the tree; built in ${buildSeconds.toFixed(1)} s`,
    );
  } finally {
    execFileSync("rm", ["-rf", "--one-file-system", dir]);
  }
}

main();
