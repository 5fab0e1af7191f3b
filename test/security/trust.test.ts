// Issue 7, items 5 and 6, through real PAM (pamtester, the built pam_chos.so) and the real
// `chos setup`: the trust rule covers every directory above the catalogue, the policy and its
// bytecode, and covers trees. Each test failed on the code before the fix:
//   item 6  a policy in a directory its group can write was run, so a member of that group who
//           renamed policy.js away turned the policy's denial into a host login (load fault +
//           on_error=host). Now such a policy is never trusted: every login gets the fault and
//           on_error's outcome, whatever the group does, and the line names the directory.
//   item 5  a tree owned by a user, or below a directory a group can write, was entered (and
//           the session modules after pam_chos ran its binaries as root). Now it is refused as
//           a missing tree is (failed=apply, on_error decides), and `chos setup` reports it and
//           leaves it out.
// Run under the shared lock: flock /tmp/chos-systest.lock npx jest --runInBand test/security/
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expectOpenedIn, expectRefused, type Opened, openWith } from "../system/lib/opened";
import { CHOS, rawBundle, writeConfig } from "../system/lib/site";
import { pamSuite } from "../system/lib/suite";
import { PRETTY } from "../system/lib/trees";

const suite = pamSuite([]);

const open = (user: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<Opened> =>
  openWith(suite, user, extra, env);

/** A fresh directory under the site's, root-owned, with mode and group. */
function dir(name: string, mode: number, group = 0): string {
  const d = path.join(suite.site.dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.chownSync(d, 0, group);
  fs.chmodSync(d, mode);
  return d;
}

function gid(group: string): number {
  return Number(execFileSync("getent", ["group", group], { encoding: "utf8" }).split(":")[2]);
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

/** A copy of the tiny tree at DIR/tiny, root-owned like the original. */
function treeIn(parent: string): string {
  const tree = path.join(parent, "tiny");
  execFileSync("cp", ["-a", suite.site.trees.tiny, tree]);
  return tree;
}

/** A catalogue in which alice's environment (physics -> trixie) is TREE. */
function catalogueWithTrixieAt(name: string, tree: string): string {
  const file = path.join(suite.site.dir, name);
  const tiny = suite.site.trees.tiny;
  writeConfig(file, `%SHELLS\ntrixie:${tree}\ntiny:${tiny}\ndefault:${tiny}\n`);
  return file;
}

const DENY_ALICE =
  'return ctx.user.name === "alice" ? { layer: "site", file: "index.ts", value: { deny: "alice may not log in" } } : null;';

describe("item 6: a policy directory its group can write", () => {
  /** DIR (mode 0775, group physics: alice's) holding a bundle that denies alice. */
  function groupWritablePolicy(name: string): { dir: string; bundle: string } {
    const d = dir(name, 0o775, gid("physics"));
    const bundle = path.join(d, "policy.js");
    writeConfig(bundle, rawBundle(DENY_ALICE));
    return { dir: d, bundle };
  }

  test("the policy is not trusted: on_error=host puts alice on the host, the line names the directory", async () => {
    const p = groupWritablePolicy("chos.d-group");
    const o = await open("alice", [`policy=${p.bundle}`, "on_error=host"]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toContain(
      `failed=policy fault=load on_error=host error="policy load: ${p.dir}: writable by group, mode 0775 (not trusted)"`,
    );
  });

  test("renaming policy.js away (as alice, in the group) changes nothing: the outcome is already on_error's", async () => {
    const p = groupWritablePolicy("chos.d-rename");
    const before = await open("alice", [`policy=${p.bundle}`, "on_error=deny"]);
    expectRefused(before);
    execFileSync("setpriv", ["--reuid=alice", "--regid=physics", "--init-groups", "mv", p.bundle, `${p.bundle}.away`]);
    expect(fs.existsSync(p.bundle)).toBe(false);
    const after = await open("alice", [`policy=${p.bundle}`, "on_error=deny"]);
    expectRefused(after);
    const line = `failed=policy fault=load on_error=deny error="policy load: ${p.dir}: writable by group, mode 0775 (not trusted)"`;
    expect(before.log).toContain(line);
    expect(after.log).toContain(line);
  });

  test("chos setup --check names the policy directory", () => {
    const p = groupWritablePolicy("chos.d-check");
    const r = suite.site.ns.run([
      CHOS,
      "setup",
      "--check",
      "--root",
      suite.site.root,
      "--catalogue",
      suite.site.catalogue,
      "--sysconfig",
      suite.site.sysconfig,
      "--policy",
      p.bundle,
    ]);
    expect(r.stdout.split("\n")).toContain(
      `problem: policy: ${p.dir}: writable by group, mode 0775 (not trusted); fix: build it with \`chos-policy build\` and install it root-owned, mode 644`,
    );
  });
});

describe("item 5: untrusted trees are refused like missing ones", () => {
  test.each<[string, () => { tree: string; why: string }]>([
    [
      "a tree owned by a user",
      () => {
        const tree = treeIn(dir("trees-user", 0o755));
        fs.chownSync(tree, uid("alice"), gid("physics"));
        return { tree, why: `${tree}: owned by uid ${uid("alice")}, not root (not trusted)` };
      },
    ],
    [
      "a tree whose parent its group can write",
      () => {
        const parent = dir("trees-group", 0o775, gid("physics"));
        return { tree: treeIn(parent), why: `${parent}: writable by group, mode 0775 (not trusted)` };
      },
    ],
  ])(
    "%s: host with on_error=host (the line names the directory), default with on_error=default, refused with deny",
    async (_what, make) => {
      const { tree, why } = make();
      const catalogue = catalogueWithTrixieAt(`cat-${path.basename(path.dirname(tree))}`, tree);
      const host = await open("alice", [`catalogue=${catalogue}`, "on_error=host"]);
      expectOpenedIn(host, PRETTY.host);
      expect(host.log).toContain(`user="alice" env=(host) `);
      expect(host.log).toContain(`failed=apply on_error=host error="tree ${tree}: ${why}"`);
      expectOpenedIn(await open("alice", [`catalogue=${catalogue}`, "on_error=default"]), PRETTY.tiny);
      expectRefused(await open("alice", [`catalogue=${catalogue}`, "on_error=deny"]));
    },
  );

  test("root is never locked out by an untrusted tree (allow_root, on_error=deny): the host", async () => {
    const parent = dir("trees-root", 0o777);
    const tree = treeIn(parent);
    const file = path.join(suite.site.dir, "cat-root");
    writeConfig(file, `%SHELLS\ntrixie:${tree}\ntiny:${tree}\ndefault:${tree}\n`);
    const o = await open("root", [`catalogue=${file}`, "allow_root", "on_error=deny"]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toContain(`error="tree ${tree}: ${parent}: writable by group and others, mode 0777 (not trusted)"`);
  });

  test("chos setup --check names each untrusted tree; chos setup leaves it out and says so", () => {
    const userTree = treeIn(dir("setup-user", 0o755));
    fs.chownSync(userTree, uid("alice"), gid("physics"));
    const parent = dir("setup-group", 0o775, gid("physics"));
    const groupTree = treeIn(parent);
    const catalogue = path.join(suite.site.dir, "cat-setup");
    writeConfig(catalogue, `%SHELLS\nmine:${userTree}\nshared:${groupTree}\ntiny:${suite.site.trees.tiny}\n`);
    const setup = (...extra: string[]): string[] =>
      suite.site.ns
        .run([
          CHOS,
          "setup",
          "--root",
          path.join(suite.site.dir, "root-setup"),
          "--catalogue",
          catalogue,
          "--sysconfig",
          suite.site.sysconfig,
          "--policy",
          suite.site.policy,
          "--backend",
          "namespace",
          ...extra,
        ])
        .stdout.split("\n");
    const fix =
      "fix: chown root and chmod go-w the directory (and every one above the tree), or remove the tree from the catalogue";
    const left = "setup leaves it out (no files served, not listed for the kernel module) and sessions refuse it";
    const expected = [
      `problem: tree ${userTree} of "mine" is not trusted (${userTree}: owned by uid ${uid("alice")}, not root (not trusted)): ${left}; ${fix}`,
      `problem: tree ${groupTree} of "shared" is not trusted (${parent}: writable by group, mode 0775 (not trusted)): ${left}; ${fix}`,
    ];
    const check = setup("--check");
    for (const line of expected) expect(check).toContain(line);
    const run = setup();
    for (const line of expected) expect(run).toContain(line);
    // Nothing was served into the untrusted trees; the trusted one got its files.
    expect(run.filter((l) => l.startsWith("done: ") && (l.includes(userTree) || l.includes(groupTree)))).toEqual([]);
    expect(run.filter((l) => l.startsWith("done: ") && l.includes(suite.site.trees.tiny)).length).toBeGreaterThan(0);
  });
});
