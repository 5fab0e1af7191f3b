// `chos setup` lays out ROOT (layout.h) idempotently, and `chos setup --check` reports every
// problem with what to do. Runs inside the site's test namespace, so no mount reaches the host.
import * as fs from "node:fs";
import * as path from "node:path";
import { type RunResult, TestNamespace } from "./lib/namespace";
import { CHOS, exampleCatalogue, TestSite, TREES_TIMEOUT_MS, writeConfig } from "./lib/site";
import { VERSION } from "./lib/version";

let site: TestSite;
let scratch: string;

beforeAll(async () => {
  // A site directory from BINDMOUNT: under /mnt, which is not one of the OS directories.
  scratch = fs.mkdtempSync("/mnt/chos-test-scratch-");
  fs.writeFileSync(path.join(scratch, "hello"), "from the host\n");
  site = await TestSite.create({ sysconfig: `# the seed's file\nCHOS_DEBUG=0\nBINDMOUNT="${scratch}"\n` });
}, TREES_TIMEOUT_MS);

afterAll(() => {
  site?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** chos setup with the site's files but another ROOT (and any overrides). */
function setupAt(root: string, ...extra: string[]): RunResult {
  const args = new Map<string, string>([
    ["--root", root],
    ["--catalogue", site.catalogue],
    ["--sysconfig", site.sysconfig],
    ["--policy", site.policy],
  ]);
  const flags: string[] = [];
  for (let i = 0; i < extra.length; i++) {
    if (extra[i].startsWith("--") && extra[i + 1] !== undefined && !extra[i + 1].startsWith("--"))
      args.set(extra[i], extra[++i]);
    else flags.push(extra[i]);
  }
  return site.ns.run([CHOS, "setup", ...[...args].flat(), ...flags]);
}

function problems(r: RunResult): string[] {
  return r.stdout.split("\n").filter((l) => l.startsWith("problem: "));
}

test("the site root is laid out: OS dirs through the link, site dirs and BINDMOUNT bound, identity files served", () => {
  const r = site.ns.run([
    "sh",
    "-c",
    [
      `readlink ${site.root}/usr ${site.root}/etc`,
      `test -d ${site.root}/.chos-link && echo link-is-dir`,
      `cat ${site.root}${scratch}/hello`,
      `grep -c '^alice:' ${site.trees.tiny}/etc/passwd || true`,
      `cmp /etc/passwd ${site.trees.trixie}/etc/passwd && echo passwd-same`,
    ].join("; "),
  ]);
  expect(r.stdout.split("\n")).toEqual(
    expect.arrayContaining([".chos-link/usr", ".chos-link/etc", "link-is-dir", "from the host", "passwd-same"]),
  );
});

test("a second run changes nothing and the check finds no problem", () => {
  const before = site.ns.mountinfo();
  const again = site.setup();
  expect(again.stdout).toBe("chos setup: done\n");
  expect(again.status).toBe(0);
  expect(site.ns.mountinfo()).toBe(before);
  const check = site.setup("--check");
  expect(check.stdout).toBe("chos setup: no problems\n");
  expect(check.status).toBe(0);
});

test("--check on a root never set up reports each missing piece with its fix, changes nothing", () => {
  const root = path.join(site.dir, "fresh-root");
  const r = setupAt(root, "--check");
  expect(r.status).toBe(1);
  expect(problems(r)).toEqual(
    expect.arrayContaining([
      `problem: ${root} is not a directory; fix: run \`chos setup\``,
      `problem: ${root}/.chos-link is missing; fix: run \`chos setup\``,
      `problem: ${root}/usr is missing; fix: run \`chos setup\``,
      `problem: ${root}/home is not bound from the host's /home; fix: run \`chos setup\` (binds do not survive a reboot)`,
    ]),
  );
  expect(fs.existsSync(root)).toBe(false);
});

test("a root a user owns is a problem for setup too, not only for --check", () => {
  const root = path.join(site.dir, "user-owned-root");
  expect(setupAt(root).status).toBe(0);
  fs.chownSync(root, 1000, 1000);
  for (const extra of [[], ["--check"]]) {
    const r = setupAt(root, ...extra);
    expect(problems(r)).toContain(`problem: ${root} is not root-owned mode 755; fix: chown root and chmod 755 it`);
    expect(r.status).toBe(1);
  }
});

test("--check names a link that is neither layout's (a regular file) for what it is", () => {
  const root = path.join(site.dir, "file-link-root");
  expect(setupAt(root).status).toBe(0);
  fs.rmdirSync(path.join(root, ".chos-link"));
  fs.writeFileSync(path.join(root, ".chos-link"), "");
  for (const backend of ["kmod", "namespace"]) {
    const r = setupAt(root, "--check", "--backend", backend);
    expect(problems(r)).toContain(
      `problem: ${root}/.chos-link is neither the kmod backend's symlink nor the namespace backend's directory; fix: move it away and run \`chos setup\``,
    );
  }
  expect(setupAt(root).status).toBe(0);
  expect(fs.statSync(path.join(root, ".chos-link")).isDirectory()).toBe(true);
});

test("--backend kmod lays out the link for the module, reports the module it cannot load; namespace switches back", () => {
  const root = path.join(site.dir, "switch-root");
  expect(setupAt(root).status).toBe(0);
  const kmod = setupAt(root, "--backend", "kmod");
  expect(fs.readlinkSync(path.join(root, ".chos-link"))).toBe(".chosfs/link");
  expect(fs.readlinkSync(path.join(root, "usr"))).toBe(".chosfs/link/usr");
  // The test host's kernel has no chos.ko installed (the module is tested in QEMU: test/chos/kmod.test.ts).
  expect(kmod.status).toBe(1);
  expect(problems(kmod)).toContain(
    `problem: the chos kernel module is not loaded and \`modprobe chos\` failed (exit 1); fix: install it for this kernel (dkms install chos/${VERSION}) or give --module PATH of its chos.ko`,
  );
  const check = setupAt(root, "--check", "--backend", "namespace");
  expect(problems(check)).toContain(
    `problem: ${root}/.chos-link is laid out for the kmod backend; fix: run \`chos setup\` with the backend you use`,
  );
  expect(setupAt(root, "--backend", "namespace").status).toBe(0);
  expect(fs.statSync(path.join(root, ".chos-link")).isDirectory()).toBe(true);
  expect(fs.readlinkSync(path.join(root, "usr"))).toBe(".chos-link/usr");
});

test("--check of a kmod layout says the module is not loaded and names an older link; auto keeps the kmod layout, renewed", () => {
  const root = path.join(site.dir, "kmod-check-root");
  setupAt(root, "--backend", "kmod");
  // Layouts before ROOT/.chosfs pointed the link through /proc.
  fs.unlinkSync(path.join(root, ".chos-link"));
  fs.symlinkSync("/proc/chos/link", path.join(root, ".chos-link"));
  for (const extra of [["--backend", "kmod"], []]) {
    const r = setupAt(root, "--check", ...extra);
    expect(r.status).toBe(1);
    expect(problems(r)).toContain(
      "problem: the chos kernel module is not loaded (/proc/chos is missing); fix: run `chos setup` (it loads it: modprobe chos, or --module PATH)",
    );
    expect(problems(r)).toContain(
      `problem: ${root}/.chos-link does not point to .chosfs/link; fix: run \`chos setup\``,
    );
  }
  expect(setupAt(root).status).toBe(1);
  expect(fs.readlinkSync(path.join(root, ".chos-link"))).toBe(".chosfs/link");
});

test("--module names a file that is no module: the load error is reported, nothing else changes", () => {
  const root = path.join(site.dir, "module-root");
  for (const [file, error] of [
    ["/nonexistent/chos.ko", "No such file or directory"],
    ["/etc/hostname", ""],
  ]) {
    const r = setupAt(root, "--module", file);
    expect(r.status).toBe(1);
    const line = problems(r).find((l) => l.startsWith(`problem: loading ${file}: `));
    expect(line).toMatch(/; fix: give the chos\.ko built for this kernel \(uname -r\); dmesg says more$/);
    if (error) expect(line).toContain(error);
  }
});

/** The kmod layout in a namespace whose mounts are private (a host without systemd): the trees
 * are bound at OS (a BINDMOUNT directory, so the link's target resolves inside ROOT). body gets
 * setup(trees), which writes a catalogue of those trees and runs `chos setup` again. */
async function withPrivateKmodSite(
  body: (ns: TestNamespace, root: string, os: string, setup: (trees: string[]) => void) => void,
): Promise<void> {
  const dir = fs.mkdtempSync("/var/lib/chos-test-private-");
  const os = fs.mkdtempSync("/mnt/chos-test-os-");
  const ns = await TestNamespace.start(path.join(dir, "ns"), "private");
  const root = path.join(dir, "root");
  const setup = (trees: string[]): void => {
    writeConfig(path.join(dir, "chos"), `%SHELLS\n${trees.map((t) => `${t}:${os}/${t}\n`).join("")}`);
    const r = ns.run([
      CHOS,
      "setup",
      "--backend",
      "kmod",
      "--root",
      root,
      "--catalogue",
      path.join(dir, "chos"),
      "--sysconfig",
      path.join(dir, "sysconfig"),
      "--policy",
      site.policy,
    ]);
    // Everything but the module (not loadable on the test host) is laid out.
    expect(problems(r).filter((l) => !l.includes("kernel module"))).toEqual([]);
  };
  try {
    expect(ns.run(["mount", "--bind", path.dirname(site.trees.tiny), os]).status).toBe(0);
    writeConfig(path.join(dir, "sysconfig"), `BINDMOUNT=${os}\n`);
    body(ns, root, os, setup);
  } finally {
    ns.stop();
    for (let i = 0; i < 50 && fs.existsSync(dir); i++) {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    fs.rmdirSync(os);
  }
}

function servedThroughRoot(ns: TestNamespace, root: string, os: string, tree: string): string {
  const r = ns.run(["cmp", "/etc/passwd", `${root}${os}/${tree}/etc/passwd`]);
  return `${tree}: ${r.status} ${r.stdout}${r.stderr}`;
}

test("kmod layout with private mounts: trees seen through ROOT serve the host identity files", async () => {
  await withPrivateKmodSite((ns, root, os, setup) => {
    setup(["tiny", "trixie"]);
    for (const tree of ["tiny", "trixie"]) expect(servedThroughRoot(ns, root, os, tree)).toBe(`${tree}: 0 `);
  });
});

test("kmod layout with private mounts: a tree added to the catalogue later is served through ROOT too", async () => {
  await withPrivateKmodSite((ns, root, os, setup) => {
    setup(["tiny"]);
    setup(["tiny", "trixie"]);
    expect(servedThroughRoot(ns, root, os, "trixie")).toBe("trixie: 0 ");
  });
});

describe("bad site configuration is reported, one problem line each", () => {
  test.each<[string, string, string]>([
    [
      "a relative BINDMOUNT",
      "BINDMOUNT=scratch\n",
      "line 1: BINDMOUNT wants absolute directories without . or .. (not /)",
    ],
    [
      "a BINDMOUNT with ..",
      'BINDMOUNT="/mnt/../etc"\n',
      "line 1: BINDMOUNT wants absolute directories without . or .. (not /)",
    ],
    ["BINDMOUNT=/", "\n\nBINDMOUNT=/\n", "line 3: BINDMOUNT wants absolute directories without . or .. (not /)"],
  ])("%s", (_what, text, message) => {
    const file = path.join(site.dir, `sysconfig-${_what.replace(/\W+/g, "-")}`);
    writeConfig(file, text);
    const r = setupAt(path.join(site.dir, "bad-binds"), "--sysconfig", file);
    expect(r.status).toBe(1);
    expect(problems(r)).toContain(
      `problem: ${file}: ${message}; fix: fix the file (root-owned, mode 644, BINDMOUNT=/dir lines)`,
    );
  });

  test("a BINDMOUNT inside an OS directory", () => {
    const file = path.join(site.dir, "sysconfig-os");
    writeConfig(file, "BINDMOUNT=/usr/local\n");
    const r = setupAt(path.join(site.dir, "os-binds"), "--sysconfig", file);
    expect(problems(r)).toContain(
      "problem: site directory /usr/local is inside the OS directory /usr; fix: remove it from BINDMOUNT: OS directories come from the tree",
    );
  });

  test("a ROOT inside a directory it binds (/tmp) would contain itself", () => {
    const r = setupAt("/tmp/chos-root-in-tmp", "--check");
    expect(problems(r)).toContain(
      "problem: /tmp/chos-root-in-tmp is inside /tmp, which is bound into it; fix: choose a --root outside the directories it binds",
    );
  });

  test("a BINDMOUNT the host does not have", () => {
    const file = path.join(site.dir, "sysconfig-missing");
    writeConfig(file, "BINDMOUNT=/mnt/no-such-dir\n");
    const r = setupAt(path.join(site.dir, "missing-binds"), "--sysconfig", file);
    expect(problems(r)).toContain(
      "problem: site directory /mnt/no-such-dir is not a directory on the host; fix: create it on the host, or remove it from BINDMOUNT",
    );
  });

  test("a world-writable bind list is not trusted", () => {
    const file = path.join(site.dir, "sysconfig-writable");
    writeConfig(file, `BINDMOUNT=${scratch}\n`, 0o666);
    const r = setupAt(path.join(site.dir, "writable-binds"), "--sysconfig", file);
    expect(problems(r).join("\n")).toContain(
      `problem: ${file}: ${file}: writable by group and others, mode 0666 (not trusted)`,
    );
  });

  test("an untrusted catalogue, a missing tree and a symlinked identity file", () => {
    const tree = path.join(site.dir, "odd-tree");
    fs.mkdirSync(path.join(tree, "etc"), { recursive: true });
    fs.symlinkSync("/etc/passwd", path.join(tree, "etc/passwd"));
    const good = path.join(site.dir, "cat-trees");
    writeConfig(good, `%SHELLS\nodd:${tree}\ngone:/nonexistent/tree\n`);
    const r = setupAt(path.join(site.dir, "tree-root"), "--catalogue", good);
    expect(problems(r)).toEqual(
      expect.arrayContaining([
        `problem: tree ${tree}: etc/passwd is a symlink, where a regular file is expected: the host's /etc/passwd is not bound over it; fix: replace it with a regular file`,
        'problem: tree /nonexistent/tree of "gone" is not a directory; fix: create the tree (debootstrap, scripts/make-trees) or fix the catalogue',
      ]),
    );
    const writable = path.join(site.dir, "cat-writable");
    writeConfig(writable, exampleCatalogue(site.trees), 0o664);
    const w = setupAt(path.join(site.dir, "tree-root"), "--catalogue", writable);
    expect(problems(w).join("\n")).toContain(
      `problem: catalogue: ${writable}: writable by group, mode 0664 (not trusted)`,
    );
  });

  test("a bundle directly in /etc or / is refused: its directory would be served in every tree, so it is not", () => {
    for (const [policy, dir] of [
      ["/etc/policy.js", "/etc"],
      ["/policy.js", "/"],
    ]) {
      const r = setupAt(site.root, "--check", "--policy", policy);
      expect(problems(r)).toContain(
        `problem: policy ${policy}: its directory ${dir} is not served at /etc/chos.d: every tree would see all of it; fix: keep the bundle in a directory of its own, such as /etc/chos.d`,
      );
    }
  });

  test("a missing policy bundle is reported with how to build one", () => {
    // Beside the site's bundle: its directory is the one served at /etc/chos.d.
    const none = path.join(path.dirname(site.policy), "none.js");
    const r = setupAt(site.root, "--check", "--policy", none);
    expect(problems(r)).toEqual([
      `problem: policy: ${none}: No such file or directory; fix: build it with \`chos-policy build\` and install it root-owned, mode 644`,
    ]);
  });
});

describe("misuse", () => {
  test("an unknown option exits 2 with the usage", () => {
    const r = site.ns.run([CHOS, "setup", "--rot", "/x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^chos setup: unknown option\nusage: chos setup /);
  });

  test("a relative --root exits 2", () => {
    expect(site.ns.run([CHOS, "setup", "--root", "chos"]).status).toBe(2);
  });

  test("a user who is not root may only --check", () => {
    const r = site.ns.run([
      "setpriv",
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      CHOS,
      "setup",
      "--root",
      site.root,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("chos setup: must run as root (mounts and /proc/chos/valid); --check does not\n");
  });
});
