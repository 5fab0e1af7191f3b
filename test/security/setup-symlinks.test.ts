// `chos setup` follows no symlink inside an OS tree (issue 7, item 4). A tree's owner who plants
// `etc -> /some/host/dir` must not get root's setup to create files there or bind the host's
// passwd and shadow over what it points to: each planted symlink, or a file where a directory
// is expected (and the reverse), is one problem line naming the tree and the path, nothing is
// created or mounted outside the tree, and the other trees are still served. Runs `chos setup`
// as root inside a test mount namespace (test/system/lib/namespace.ts), so its binds never
// reach the host; the fixtures live under a root-owned 0755 directory in /var/lib (the trust
// rule checks every directory above a tree and the catalogue) and are removed in `finally`.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, TestNamespace } from "../system/lib/namespace";
import { CHOS, rawBundle, writeConfig } from "../system/lib/site";

interface Fixture {
  readonly base: string;
  readonly ns: TestNamespace;
  readonly root: string;
  readonly catalogue: string;
  readonly policyDir: string;
  /** A directory of the "host" that no tree may reach: files the symlinks point at live here. */
  readonly hostDir: string;
  /** A plain tree listed beside the hostile ones: it must still be served. */
  readonly good: string;
  /** Makes a tree (a root-owned 0755 directory) and lists it in the catalogue. */
  tree(name: string): string;
  /** `chos setup` (or --check) with the fixture's catalogue, policy, ROOT and no BINDMOUNT. */
  setup(...extra: string[]): RunResult;
}

function mkdir755(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  fs.chmodSync(dir, 0o755);
  return dir;
}

async function withFixture(body: (f: Fixture) => void): Promise<void> {
  const base = fs.mkdtempSync("/var/lib/chos-test-");
  fs.chmodSync(base, 0o755);
  const ns = await TestNamespace.start(path.join(base, "ns"));
  try {
    const trees: string[] = [];
    const catalogue = path.join(base, "chos");
    const policyDir = mkdir755(path.join(base, "chos.d"));
    writeConfig(path.join(policyDir, "policy.js"), rawBundle("return null;"));
    const hostDir = mkdir755(path.join(base, "host", "pam.d"));
    fs.writeFileSync(path.join(hostDir, "login"), "auth required pam_unix.so\n", { mode: 0o644 });
    const f: Fixture = {
      base,
      ns,
      catalogue,
      policyDir,
      hostDir,
      root: path.join(base, "root"),
      good: "",
      tree(name) {
        const tree = mkdir755(path.join(base, "trees", name));
        trees.push(tree);
        writeConfig(catalogue, `%SHELLS\n${trees.map((t) => `${path.basename(t)}:${t}\n`).join("")}`);
        return tree;
      },
      setup: (...extra) =>
        ns.run([
          CHOS,
          "setup",
          "--root",
          f.root,
          "--catalogue",
          catalogue,
          "--sysconfig",
          path.join(base, "no-sysconfig"),
          "--policy",
          path.join(policyDir, "policy.js"),
          ...extra,
        ]),
    };
    const good = f.tree("good");
    mkdir755(path.join(good, "etc"));
    body({ ...f, good });
  } finally {
    ns.stop();
    // The binds lived only in the namespace: once it is gone this is plain files.
    for (let i = 0; i < 50 && fs.existsSync(base); i++) {
      try {
        fs.rmSync(base, { recursive: true, force: true });
      } catch {
        execFileSync("sleep", ["0.1"]);
      }
    }
  }
}

function problems(r: RunResult): string[] {
  return r.stdout.split("\n").filter((l) => l.startsWith("problem: "));
}

/** Every file under dir with its size, as seen inside the namespace (binds included). */
function listing(ns: TestNamespace, dir: string): string {
  return ns.run(["find", dir, "-printf", "%P %y %s\n"]).stdout.split("\n").sort().join("\n");
}

function mountPoints(ns: TestNamespace): Set<string> {
  return new Set(
    ns
      .mountinfo()
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[4]),
  );
}

function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(`${dir}/`);
}

/** The mounts setup added are all in ROOT or in the good tree (or the trees in served), and the
 * good tree is served. */
function expectOnlyGoodMounts(f: Fixture, before: Set<string>, served: readonly string[] = []): void {
  const added = [...mountPoints(f.ns)].filter((m) => !before.has(m));
  const inside = [f.root, f.good, ...served];
  expect(added.filter((m) => !inside.some((dir) => isUnder(m, dir)))).toEqual([]);
  expect(added).toEqual(
    expect.arrayContaining([`${f.good}/etc/passwd`, `${f.good}/etc/shadow`, `${f.good}/etc/chos.d`]),
  );
  expect(f.ns.run(["cmp", "/etc/shadow", `${f.good}/etc/shadow`]).status).toBe(0);
}

const ETC_SYMLINK = (tree: string): string =>
  `problem: tree ${tree}: etc is a symlink, where a directory is expected: nothing is created or bound through it; fix: replace it with a directory`;

describe("a symlinked etc in a tree is refused, whatever it points to", () => {
  test.each<[string, (f: Fixture, tree: string) => { target: string; watched: string }]>([
    ["a host directory (absolute)", (f) => ({ target: f.hostDir, watched: f.hostDir })],
    ["a host directory (relative, out of the tree)", (f) => ({ target: "../../host/pam.d", watched: f.hostDir })],
    ["nothing (dangling)", (f) => ({ target: path.join(f.base, "host", "gone"), watched: path.dirname(f.hostDir) })],
    [
      "a directory inside the same tree",
      (_f, tree) => {
        const inside = mkdir755(path.join(tree, "real-etc"));
        fs.writeFileSync(path.join(inside, "passwd"), "root:x:0:0::/root:/bin/sh\n", { mode: 0o644 });
        return { target: "real-etc", watched: inside };
      },
    ],
  ])(
    "etc -> %s: one problem naming the tree, nothing created or bound there, the other tree served",
    async (_what, plant) => {
      await withFixture((f) => {
        const evil = f.tree("evil");
        const { target, watched } = plant(f, evil);
        fs.symlinkSync(target, path.join(evil, "etc"));
        const listed = listing(f.ns, watched);
        const before = mountPoints(f.ns);

        const r = f.setup();
        expect(problems(r)).toEqual([ETC_SYMLINK(evil)]);
        expect(r.stdout.endsWith("chos setup: 1 problem left\n")).toBe(true);
        expect(r.status).toBe(1);
        expect(listing(f.ns, watched)).toBe(listed);
        expect(fs.existsSync(path.join(f.base, "host", "gone"))).toBe(false);
        expectOnlyGoodMounts(f, before);

        const check = f.setup("--check");
        expect(problems(check)).toEqual([ETC_SYMLINK(evil)]);
        expect(check.status).toBe(1);
      });
    },
  );
});

test("a file where a directory is expected, and a fifo where a file is: one problem each, nothing bound there", async () => {
  await withFixture((f) => {
    const etcFile = f.tree("etc-file");
    fs.writeFileSync(path.join(etcFile, "etc"), "", { mode: 0o644 });
    const fifo = f.tree("fifo");
    mkdir755(path.join(fifo, "etc"));
    execFileSync("mkfifo", ["-m", "0644", path.join(fifo, "etc", "passwd")]);
    const chosd = f.tree("chosd-file");
    mkdir755(path.join(chosd, "etc"));
    fs.writeFileSync(path.join(chosd, "etc", "chos.d"), "", { mode: 0o644 });
    const before = mountPoints(f.ns);

    const r = f.setup();
    expect(problems(r)).toEqual([
      `problem: tree ${etcFile}: etc is a regular file, where a directory is expected: nothing is created or bound through it; fix: replace it with a directory`,
      `problem: tree ${fifo}: etc/passwd is a fifo, where a regular file is expected: the host's /etc/passwd is not bound over it; fix: replace it with a regular file`,
      `problem: tree ${chosd}: etc/chos.d is a regular file, where a directory is expected: the host's ${f.policyDir} is not bound over it; fix: replace it with a directory`,
    ]);
    expect(r.status).toBe(1);
    const added = [...mountPoints(f.ns)].filter((m) => !before.has(m));
    expect(added.filter((m) => [`${etcFile}/etc`, `${fifo}/etc/passwd`, `${chosd}/etc/chos.d`].includes(m))).toEqual(
      [],
    );
    // The fifo's tree still gets everything else.
    expect(added).toContain(`${fifo}/etc/shadow`);
    expectOnlyGoodMounts(f, before, [fifo, chosd]);
  });
});

test("a symlink planted in a directory bound into ROOT before a BINDMOUNT below it is refused", async () => {
  await withFixture((f) => {
    // /mnt, not an OS directory; `pub` stands for a directory users write (like /tmp).
    const site = fs.mkdtempSync("/mnt/chos-test-site-");
    try {
      fs.chmodSync(site, 0o755);
      const pub = mkdir755(path.join(site, "pub"));
      mkdir755(path.join(pub, "real"));
      fs.symlinkSync(f.hostDir, path.join(pub, "data"));
      const sysconfig = path.join(f.base, "sysconfig");
      writeConfig(sysconfig, `BINDMOUNT="${pub} ${pub}/data"\n`);
      const listed = listing(f.ns, f.hostDir);
      const before = mountPoints(f.ns);

      const r = f.setup("--sysconfig", sysconfig);
      expect(problems(r)).toEqual([
        `problem: root ${f.root}: ${pub.slice(1)}/data is a symlink, where a directory is expected: the host's ${pub}/data is not bound over it; fix: replace it with a directory`,
      ]);
      expect(r.status).toBe(1);
      expect(listing(f.ns, f.hostDir)).toBe(listed);
      expect([...mountPoints(f.ns)].filter((m) => !before.has(m) && isUnder(m, f.hostDir))).toEqual([]);
      expect(mountPoints(f.ns).has(`${f.root}${pub}`)).toBe(true);
    } finally {
      fs.rmSync(site, { recursive: true, force: true });
    }
  });
});
