// The trust rule (pam/core/common/trust.c) for the catalogue, the bundle, its bytecode and trees: the
// object and every directory above it, from / down, root-owned (unless trustAnyOwner) and not
// writable by group or others, no sticky exception; a link is followed only from a directory
// that passed, and its target is walked by the same rule.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ALICE, bundleSource, native, withDir, writeCatalogue, writeFile } from "./lib";

const isRoot = process.getuid?.() === 0;

/** dir/name made with an explicit mode (umask must not decide). */
function mkdir(dir: string, name: string, mode = 0o755): string {
  const d = path.join(dir, name);
  fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(d, mode);
  return d;
}

describe("trust rule: the file", () => {
  test("a root-owned file that only its owner can write, in trusted directories, is trusted", () =>
    withDir((dir) => {
      const file = writeCatalogue(dir);
      if (isRoot) expect(native.parseCatalogue(file)).toHaveLength(3);
      expect(native.parseCatalogue(file, { trustAnyOwner: true })).toHaveLength(3);
    }));

  test("a file not owned by root is refused unless trustAnyOwner", () =>
    withDir((dir) => {
      const file = writeCatalogue(dir);
      if (isRoot) fs.chownSync(file, 65534, 65534);
      const uid = fs.statSync(file).uid;
      expect(() => native.parseCatalogue(file)).toThrow(`${file}: owned by uid ${uid}, not root (not trusted)`);
      expect(native.parseCatalogue(file, { trustAnyOwner: true })).toHaveLength(3);
    }));

  test("a group- or world-writable file is refused even with trustAnyOwner, naming who can write", () =>
    withDir((dir) => {
      const file = writeCatalogue(dir);
      for (const [mode, who] of [
        [0o664, "group"],
        [0o646, "others"],
        [0o666, "group and others"],
      ] as const) {
        fs.chmodSync(file, mode);
        expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
          `${file}: writable by ${who}, mode 0${mode.toString(8)} (not trusted)`,
        );
      }
    }));

  test("a missing file, a directory and a FIFO are refused (the FIFO without blocking)", () =>
    withDir((dir) => {
      const missing = path.join(dir, "missing");
      expect(() => native.parseCatalogue(missing, { trustAnyOwner: true })).toThrow(
        `${missing}: No such file or directory`,
      );
      const below = path.join(dir, "nodir", "chos");
      expect(() => native.parseCatalogue(below, { trustAnyOwner: true })).toThrow(
        `${below}: No such file or directory`,
      );
      expect(() => native.parseCatalogue(dir, { trustAnyOwner: true })).toThrow(
        `${dir}: not a regular file (not trusted)`,
      );
      const fifo = path.join(dir, "fifo");
      execFileSync("mkfifo", ["-m", "0644", fifo]);
      expect(() => native.parseCatalogue(fifo, { trustAnyOwner: true })).toThrow(
        `${fifo}: not a regular file (not trusted)`,
      );
    }));

  test("an untrusted bundle is a load fault", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: "return null;" }), 0o666);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d.error).toEqual({
        fault: "load",
        message: `${bundle}: writable by group and others, mode 0666 (not trusted)`,
      });
    }));

  test("an untrusted bytecode file is ignored with a warning and the source is used", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      native.compile(bundle);
      fs.chmodSync(`${bundle}.qbc`, 0o666);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d).toMatchObject({ env: "sl7", fromBytecode: false });
      expect(d.logs).toEqual([
        `${bundle}.qbc: writable by group and others, mode 0666 (not trusted); using the source`,
      ]);
    }));
});

describe("trust rule: the directories above", () => {
  test("a group-writable parent makes the file untrusted, naming the directory", () =>
    withDir((dir) => {
      const etc = mkdir(dir, "chos.d", 0o775);
      const file = writeCatalogue(etc);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${etc}: writable by group, mode 0775 (not trusted)`,
      );
    }));

  test("an other-writable grandparent makes the file untrusted, naming the grandparent", () =>
    withDir((dir) => {
      const a = mkdir(dir, "a", 0o757);
      const file = writeCatalogue(mkdir(a, "b"));
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${a}: writable by others, mode 0757 (not trusted)`,
      );
    }));

  test("a parent not owned by root makes the file untrusted; trustAnyOwner relaxes only that", () =>
    withDir((dir) => {
      const u = mkdir(dir, "user");
      const file = writeCatalogue(u);
      if (isRoot) fs.chownSync(u, 65534, 65534);
      const uid = fs.statSync(u).uid;
      expect(() => native.parseCatalogue(file)).toThrow(`${u}: owned by uid ${uid}, not root (not trusted)`);
      expect(native.parseCatalogue(file, { trustAnyOwner: true })).toHaveLength(3);
      fs.chmodSync(u, 0o775);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${u}: writable by group, mode 0775 (not trusted)`,
      );
    }));

  test("a sticky world-writable parent (like /tmp) gets no exception", () =>
    withDir((dir) => {
      const tmp = mkdir(dir, "tmp", 0o1777);
      const file = writeCatalogue(tmp);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${tmp}: writable by group and others, mode 1777 (not trusted)`,
      );
      const real = fs.mkdtempSync("/tmp/chos-trust-");
      try {
        const inTmp = writeCatalogue(real);
        expect(() => native.parseCatalogue(inTmp, { trustAnyOwner: true })).toThrow(
          `/tmp: writable by group and others, mode ${(fs.statSync("/tmp").mode & 0o7777).toString(8).padStart(4, "0")} (not trusted)`,
        );
      } finally {
        fs.rmSync(real, { recursive: true, force: true });
      }
    }));

  test("a bundle in a group-writable directory is a load fault naming the directory", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const pdir = mkdir(dir, "chos.d", 0o775);
      const bundle = writeFile(path.join(pdir, "policy.js"), bundleSource({ site: 'return { deny: "no" };' }));
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d.error).toEqual({ fault: "load", message: `${pdir}: writable by group, mode 0775 (not trusted)` });
    }));

  test("trustFileOnly judges the file alone: its directories are not checked, its mode is", () =>
    withDir((dir) => {
      const open = mkdir(dir, "open", 0o777);
      const file = writeCatalogue(open);
      expect(native.parseCatalogue(file, { trustAnyOwner: true, trustFileOnly: true })).toHaveLength(3);
      fs.chmodSync(file, 0o664);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true, trustFileOnly: true })).toThrow(
        `${file}: writable by group, mode 0664 (not trusted)`,
      );
    }));
});

describe("trust rule: symbolic links", () => {
  test("a link in a trusted directory is followed, relative or absolute, to a trusted file", () =>
    withDir((dir) => {
      const target = writeCatalogue(mkdir(dir, "site"));
      fs.symlinkSync(target, path.join(dir, "absolute"));
      fs.symlinkSync("site/chos", path.join(dir, "relative"));
      fs.symlinkSync("../site", path.join(mkdir(dir, "etc"), "up"));
      for (const link of ["absolute", "relative", "etc/up/chos"])
        expect(native.parseCatalogue(path.join(dir, link), { trustAnyOwner: true })).toHaveLength(3);
    }));

  test("a link's target is walked by the same rule: an untrusted directory there is named", () =>
    withDir((dir) => {
      const open = mkdir(dir, "open", 0o775);
      writeCatalogue(open);
      const link = path.join(dir, "chos");
      fs.symlinkSync("open/chos", link);
      expect(() => native.parseCatalogue(link, { trustAnyOwner: true })).toThrow(
        `${open}: writable by group, mode 0775 (not trusted)`,
      );
      fs.symlinkSync("/tmp", path.join(dir, "tmp"));
      expect(() => native.parseCatalogue(path.join(dir, "tmp", "chos"), { trustAnyOwner: true })).toThrow(
        /^\/tmp: writable by group and others, mode 1777 \(not trusted\)$/,
      );
    }));

  test("a link in an untrusted directory is never followed: the directory is refused first", () =>
    withDir((dir) => {
      const target = writeCatalogue(dir);
      const open = mkdir(dir, "open", 0o777);
      fs.symlinkSync(target, path.join(open, "chos"));
      expect(() => native.parseCatalogue(path.join(open, "chos"), { trustAnyOwner: true })).toThrow(
        `${open}: writable by group and others, mode 0777 (not trusted)`,
      );
    }));

  test("a loop of links ends with an error", () =>
    withDir((dir) => {
      const loop = path.join(dir, "loop");
      fs.symlinkSync("loop", loop);
      expect(() => native.parseCatalogue(loop, { trustAnyOwner: true })).toThrow(
        `${loop}: too many levels of symbolic links (not trusted)`,
      );
    }));

  test("with trustFileOnly a link is refused (nothing vouches for the directory it sits in)", () =>
    withDir((dir) => {
      const link = path.join(dir, "link");
      fs.symlinkSync(writeCatalogue(dir), link);
      expect(() => native.parseCatalogue(link, { trustAnyOwner: true, trustFileOnly: true })).toThrow(
        `${link}: is a symbolic link (not trusted)`,
      );
    }));
});

describe("trust rule: trees", () => {
  test("a root-owned tree below trusted directories passes, through a link too", () =>
    withDir((dir) => {
      const tree = mkdir(dir, "os/tree");
      fs.symlinkSync("os/tree", path.join(dir, "alias"));
      if (isRoot) native.checkTree(tree);
      native.checkTree(tree, { trustAnyOwner: true });
      native.checkTree(path.join(dir, "alias"), { trustAnyOwner: true });
    }));

  test("a tree owned by a user is refused", () =>
    withDir((dir) => {
      const tree = mkdir(dir, "os/tree");
      if (isRoot) fs.chownSync(tree, 65534, 65534);
      const uid = fs.statSync(tree).uid;
      expect(() => native.checkTree(tree)).toThrow(`${tree}: owned by uid ${uid}, not root (not trusted)`);
    }));

  test("a tree with a group-writable parent is refused, naming the parent", () =>
    withDir((dir) => {
      const os = mkdir(dir, "os", 0o775);
      const tree = mkdir(os, "tree");
      expect(() => native.checkTree(tree, { trustAnyOwner: true })).toThrow(
        `${os}: writable by group, mode 0775 (not trusted)`,
      );
    }));

  test("a missing tree and a file in its place say so", () =>
    withDir((dir) => {
      const missing = path.join(dir, "missing");
      expect(() => native.checkTree(missing, { trustAnyOwner: true })).toThrow(`${missing}: No such file or directory`);
      const file = writeCatalogue(dir);
      expect(() => native.checkTree(file, { trustAnyOwner: true })).toThrow(`${file}: not a directory`);
    }));
});
