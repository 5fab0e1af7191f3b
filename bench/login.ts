// `npm run bench:login` (root): what pam_chos adds to a login, measured in one run against the
// same stack without it.
//   1. PAM: pam_open_session + pam_close_session through pam_start_confdir (dist/native/
//      chos-bench-pam), stack `pam_chos (namespace backend) + pam_unix` vs `pam_unix` alone, for
//      alice (physics: the example policy puts her in trixie), each session in a fresh process
//      that has looked alice's groups up first, as sshd and su have by then (bench/pam-session.c).
//   2. ssh: `ssh alice@127.0.0.1 true` against two sshd instances on loopback, one whose PAM
//      service has pam_chos and one whose does not.
//   3. site scale: the same PAM session with pam_chos over a generated policy of 10 group files
//      and one of 5,000 (test/policy/lib/generated-site.ts, plus alice's physics.ts), as a ratio:
//      a login loads only its own groups' units, so the ratio should stay near 1.
// Rounds alternate the two variants so drift (caches, other load) hits both alike. Everything
// runs in a private mount and PID namespace: `chos setup`'s binds, the sessions and both sshd
// die with it. The figures are printed, never asserted: targets are in issue 3.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildPolicy, q, REPO } from "../test/chos/lib/fixture";
import { writeGeneratedSite } from "../test/policy/lib/generated-site";
import { freePort } from "../test/system/lib/net";
import { acquireTestUsers } from "../test/system/lib/users";

const ROUNDS = 5;
const PAM_PER_ROUND = 60;
const SSH_PER_ROUND = 6;
const USER = "alice";
const NATIVE = path.join(REPO, "dist/native");
const PAM_SERVICES = { with: "chos-bench-with", without: "chos-bench-without" } as const;
/** Group files of the two generated policies, and their PAM services (pam_chos + pam_unix). */
const SCALES = [10, 5000] as const;
const scaleService = (groups: number) => `chos-bench-groups${groups}`;

type Variant = keyof typeof PAM_SERVICES;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function stats(samples: readonly number[]): { median: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 50), p99: percentile(s, 99) };
}

/** The site: catalogue, policy, PAM stacks (for the driver and for sshd), keys, sshd configs. */
function writeSite(dir: string, root: string, ports: Record<Variant, number>): void {
  // scripts/make-trees prints `name path` lines (the cached trees' real paths).
  const made = execFileSync(path.join(REPO, "scripts/make-trees"), [path.join(dir, "trees")], { encoding: "utf8" });
  const trees = Object.fromEntries(
    made
      .trim()
      .split("\n")
      .map((l) => l.split(" ")),
  );
  buildPolicy(dir);
  fs.writeFileSync(
    path.join(dir, "catalogue"),
    `%SHELLS\ntrixie:${trees.trixie}\ntiny:${trees.tiny}\ndefault:${trees.trixie}\n`,
    { mode: 0o644 },
  );
  const chosWith = (policy: string) =>
    `session requisite ${NATIVE}/pam_chos.so catalogue=${dir}/catalogue policy=${policy} root=${root} backend=namespace\n`;
  const chos = chosWith(`${dir}/policy.js`);
  const stacks: Record<Variant, string> = {
    with: `account required pam_unix.so\n${chos}session required pam_unix.so\n`,
    without: "account required pam_unix.so\nsession required pam_unix.so\n",
  };
  fs.mkdirSync(path.join(dir, "pam.d"));
  fs.mkdirSync(path.join(dir, "keys"));
  for (const groups of SCALES) {
    const site = path.join(dir, `site${groups}`);
    writeGeneratedSite(site, groups);
    fs.writeFileSync(
      path.join(site, "policy.d", "physics.ts"),
      `import { use } from "chos-policy/sdk";\nexport default () => use("trixie", "physics at site scale");\n`,
    );
    const out = path.join(dir, `policy${groups}`, "policy.js");
    execFileSync("node", [path.join(REPO, "dist/chos-policy.js"), "build", site, "-o", out], { stdio: "ignore" });
    fs.writeFileSync(
      path.join(dir, "pam.d", scaleService(groups)),
      `account required pam_unix.so\n${chosWith(out)}session required pam_unix.so\n`,
    );
  }
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "client")]);
  fs.copyFileSync(path.join(dir, "client.pub"), path.join(dir, "keys", USER));
  for (const variant of ["with", "without"] as const) {
    const service = PAM_SERVICES[variant];
    fs.writeFileSync(path.join(dir, "pam.d", service), stacks[variant]);
    // sshd reads /etc/pam.d/<its program name>; removed in main's finally.
    fs.writeFileSync(`/etc/pam.d/${service}`, stacks[variant]);
    fs.symlinkSync("/usr/sbin/sshd", path.join(dir, service));
    fs.writeFileSync(
      path.join(dir, `sshd_config.${variant}`),
      [
        `Port ${ports[variant]}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${dir}/host_key`,
        `PidFile ${dir}/sshd.${variant}.pid`,
        "UsePAM yes",
        `AuthorizedKeysFile ${dir}/keys/%u`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PrintMotd no",
        "UseDNS no",
        "",
      ].join("\n"),
    );
  }
}

/** The part inside the namespaces: setup, the PAM rounds, then both sshd until stdin closes. */
function innerScript(dir: string, root: string, ports: Record<Variant, number>): string {
  const session = (service: string, label: string) =>
    `${q(`${NATIVE}/chos-bench-pam`)} ${q(`${dir}/pam.d`)} ${service} ${USER} ${PAM_PER_ROUND} | sed 's/^/pam ${label} /'`;
  const driver = (v: Variant) => session(PAM_SERVICES[v], v);
  const scaled = SCALES.map((g) => session(scaleService(g), `groups${g}`)).join("; ");
  return [
    "set -euo pipefail",
    `${q(`${NATIVE}/chos`)} setup --root ${q(root)} --catalogue ${q(`${dir}/catalogue`)} --policy ${q(`${dir}/policy.js`)} --sysconfig ${q(`${dir}/sysconfig`)} --backend namespace >/dev/null`,
    `for round in $(seq ${ROUNDS}); do ${driver("with")}; ${driver("without")}; ${scaled}; done`,
    "mkdir -p /run/sshd",
    ...(["with", "without"] as const).map(
      (v) => `${q(`${dir}/${PAM_SERVICES[v]}`)} -D -f ${q(`${dir}/sshd_config.${v}`)} &`,
    ),
    ...(["with", "without"] as const).map(
      (v) => `for i in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/${ports[v]}) 2>/dev/null && break; sleep 0.05; done`,
    ),
    "echo READY",
    "cat >/dev/null", // until the bench closes stdin; then the PID namespace takes both sshd
  ].join("\n");
}

function sshOnce(dir: string, port: number): number {
  const args = [
    "-F",
    "/dev/null",
    "-i",
    path.join(dir, "client"),
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "BatchMode=yes",
    "-o",
    "LogLevel=ERROR",
    "-p",
    String(port),
    `${USER}@127.0.0.1`,
    "true",
  ];
  const t0 = process.hrtime.bigint();
  const r = spawnSync("ssh", args, { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`ssh to port ${port} failed (${r.status}): ${r.stderr}`);
  return ms;
}

async function measure(dir: string, root: string, ports: Record<Variant, number>) {
  const pam: Record<Variant, number[]> = { with: [], without: [] };
  const scale = new Map<number, number[]>(SCALES.map((g) => [g, []]));
  const ssh: Record<Variant, number[]> = { with: [], without: [] };
  const child = spawn(
    "unshare",
    ["--mount", "--propagation", "private", "--pid", "--fork", "--", "bash", "-c", innerScript(dir, root, ports)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  let buffer = "";
  await new Promise<void>((resolve, reject) => {
    child.on("close", (code) => reject(new Error(`the bench's namespace ended early (exit ${code})`)));
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = /^pam (with|without) ([\d.]+)$/.exec(line);
        const g = /^pam groups(\d+) ([\d.]+)$/.exec(line);
        if (m) pam[m[1] as Variant].push(Number(m[2]));
        else if (g) scale.get(Number(g[1]))?.push(Number(g[2]));
        else if (line === "READY") resolve();
      }
    });
  });
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of ["with", "without"] as const) {
        for (let i = 0; i < SSH_PER_ROUND; i++) ssh[v].push(sshOnce(dir, ports[v]));
      }
    }
  } finally {
    child.stdin.end();
    await exited;
  }
  if (pam.with.length !== ROUNDS * PAM_PER_ROUND || pam.without.length !== ROUNDS * PAM_PER_ROUND) {
    throw new Error(
      `PAM sessions failed: ${pam.with.length} with, ${pam.without.length} without of ${ROUNDS * PAM_PER_ROUND}`,
    );
  }
  for (const [groups, samples] of scale) {
    if (samples.length !== ROUNDS * PAM_PER_ROUND) throw new Error(`PAM sessions with ${groups} groups failed`);
  }
  return { pam, ssh, scale };
}

function report(pam: Record<Variant, number[]>, ssh: Record<Variant, number[]>, scale: Map<number, number[]>): void {
  const p = { with: stats(pam.with), without: stats(pam.without) };
  const s = { with: stats(ssh.with), without: stats(ssh.without) };
  const f = (n: number, d = 0) => n.toFixed(d).padStart(10);
  console.log(
    `pam_open_session + pam_close_session, ${USER} -> trixie (namespace backend), ${pam.with.length} sessions each`,
  );
  console.log("(each in a fresh process whose NSS group modules are loaded, as in sshd and su)");
  console.log(`${"".padEnd(18)}${"median µs".padStart(10)}${"p99 µs".padStart(10)}`);
  console.log(`${"without pam_chos".padEnd(18)}${f(p.without.median)}${f(p.without.p99)}`);
  console.log(`${"with pam_chos".padEnd(18)}${f(p.with.median)}${f(p.with.p99)}`);
  console.log(`${"ratio".padEnd(18)}${f(p.with.median / p.without.median, 2)}${f(p.with.p99 / p.without.p99, 2)}`);
  console.log(
    `${"added".padEnd(18)}${f(p.with.median - p.without.median)}${f(p.with.p99 - p.without.p99)}   (target: < 1000 µs)`,
  );
  console.log("");
  console.log(`ssh ${USER}@127.0.0.1 true, ${ssh.with.length} logins each`);
  console.log(`${"".padEnd(18)}${"median ms".padStart(10)}`);
  console.log(`${"without pam_chos".padEnd(18)}${f(s.without.median, 1)}`);
  console.log(`${"with pam_chos".padEnd(18)}${f(s.with.median, 1)}`);
  console.log(`${"ratio".padEnd(18)}${f(s.with.median / s.without.median, 3)}   (target: within 5%)`);
  console.log("");
  const [small, large] = SCALES.map((g) => stats(scale.get(g) ?? []));
  console.log(`site scale: the PAM session with pam_chos, ${USER} in physics, policies of generated group files`);
  console.log(`${"".padEnd(18)}${"median µs".padStart(10)}${"p99 µs".padStart(10)}`);
  console.log(`${`${SCALES[0]} group files`.padEnd(18)}${f(small.median)}${f(small.p99)}`);
  console.log(`${`${SCALES[1]} group files`.padEnd(18)}${f(large.median)}${f(large.p99)}`);
  console.log(
    `${"ratio".padEnd(18)}${f(large.median / small.median, 2)}${f(large.p99 / small.p99, 2)}   (goal: <= 1.15)`,
  );
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:login must run as root (PAM sessions, mounts, sshd)");
  for (const f of ["chos", "pam_chos.so", "chos-bench-pam"]) {
    if (!fs.existsSync(path.join(NATIVE, f))) throw new Error(`dist/native/${f} is missing: run npm run build`);
  }
  const release = acquireTestUsers();
  // Under /run, not /tmp: sshd's StrictModes refuses keys below a world-writable directory.
  const dir = fs.mkdtempSync("/run/chos-bench-");
  fs.chmodSync(dir, 0o755);
  // The root must lie outside the directories chos setup binds into it (home, tmp, run...).
  const rootDir = fs.mkdtempSync("/var/lib/chos-bench-");
  fs.chmodSync(rootDir, 0o755);
  const root = path.join(rootDir, "root");
  try {
    const ports = { with: await freePort(), without: await freePort() };
    writeSite(dir, root, ports);
    const { pam, ssh, scale } = await measure(dir, root, ports);
    report(pam, ssh, scale);
  } finally {
    for (const service of Object.values(PAM_SERVICES)) fs.rmSync(`/etc/pam.d/${service}`, { force: true });
    execFileSync("rm", ["-rf", "--one-file-system", dir, rootDir]);
    release();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:login: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
