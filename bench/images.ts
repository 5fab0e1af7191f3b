// `npm run bench:images` (root): the OS images of each kind against the same tree as a
// directory, all on this machine's disk. The trixie test tree is packed by `chos image build`
// into a squashfs and an erofs image; a catalogue lists it three times, `dir` (the directory),
// `sqfs` and `erofs` (the images, which `chos setup` mounts), and each round drops the page,
// dentry and inode caches before every command, then times, inside a session (`chos run ENV`),
// `find /usr | wc -l` and `ls -lR /usr`. Rounds rotate the order of the trees so drift hits
// each alike. Prints medians, each image's ratio to the directory, and the sizes. Everything
// runs in a private mount namespace: setup's mounts and the loop devices die with it. The
// figures are printed, never asserted.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildPolicy, q, REPO } from "../test/chos/lib/fixture";

const ROUNDS = 5;
const CHOS = path.join(REPO, "dist/native/chos");
const WORKLOADS = { find: "find /usr | wc -l", lsR: "ls -lR /usr >/dev/null" } as const;
const TREES = ["dir", "sqfs", "erofs"] as const;
/** The images, by catalogue name: the file's suffix picks the kind, and what it is packed with. */
const IMAGES = {
  sqfs: { file: "trixie.sqfs", packing: "zstd" },
  erofs: { file: "trixie.erofs", packing: "lz4hc" },
} as const;

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
    const order = [...TREES.slice(round % TREES.length), ...TREES.slice(0, round % TREES.length)];
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
    const built = Object.entries(IMAGES).map(([name, { file, packing }]) => {
      const image = path.join(dir, file);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(CHOS, ["image", "build", tree, "-o", image], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`chos image build ${file}: ${r.stderr}`);
      return { name, image, packing, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    });
    buildPolicy(dir);
    const catalogue = path.join(dir, "catalogue");
    const images = built.map((b) => `${b.name}:${b.image}\n`).join("");
    fs.writeFileSync(catalogue, `%SHELLS\ndir:${tree}\n${images}default:${tree}\n`, { mode: 0o644 });
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
    console.log(`bench:images: ${tree} (trixie minbase) as a directory, a squashfs and an erofs image, cold caches`);
    console.log(`rounds: ${ROUNDS}, each command after sync + drop_caches, inside chos run ENV (medians)`);
    console.log("");
    console.log("| workload | directory ms | squashfs ms | erofs ms | squashfs / directory | erofs / directory |");
    console.log("|---|---|---|---|---|---|");
    for (const [name, cmd] of Object.entries(WORKLOADS)) {
      const [d, ...images] = TREES.map((t) => median(samples.get(`${t} ${name}`) ?? []));
      const ratios = images.map((i) => (i / d).toFixed(2));
      console.log(
        `| \`${cmd.replace(" >/dev/null", "")}\` | ${[d, ...images].map((ms) => ms.toFixed(0)).join(" | ")} | ${ratios.join(" | ")} |`,
      );
    }
    console.log("");
    console.log(`size: tree ${(treeBytes / 2 ** 20).toFixed(1)} MiB (du -sb)`);
    for (const b of built) {
      const bytes = fs.statSync(b.image).size;
      console.log(
        `size: ${path.basename(b.image)} ${(bytes / 2 ** 20).toFixed(1)} MiB (${b.packing}): ${(bytes / treeBytes).toFixed(2)} of the tree; built in ${b.seconds.toFixed(1)} s`,
      );
    }
  } finally {
    execFileSync("rm", ["-rf", "--one-file-system", dir]);
  }
}

main();
