// The trust rule (pam/core/trust.c) for the catalogue, the bundle and its bytecode: a regular
// file, root-owned (unless trustAnyOwner), not group/world-writable, not a symlink.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ALICE, bundleSource, native, withDir, writeCatalogue, writeFile } from "./lib";

const isRoot = process.getuid?.() === 0;

describe("trust rule", () => {
  test("a root-owned file that only its owner can write is trusted", () =>
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

  test("a group- or world-writable file is refused even with trustAnyOwner", () =>
    withDir((dir) => {
      const file = writeCatalogue(dir);
      fs.chmodSync(file, 0o664);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${file}: writable by group or others, mode 0664 (not trusted)`,
      );
      fs.chmodSync(file, 0o646);
      expect(() => native.parseCatalogue(file, { trustAnyOwner: true })).toThrow(
        `${file}: writable by group or others, mode 0646 (not trusted)`,
      );
    }));

  test("a symlink is refused, even to a trusted file", () =>
    withDir((dir) => {
      const target = writeCatalogue(dir);
      const link = path.join(dir, "link");
      fs.symlinkSync(target, link);
      expect(() => native.parseCatalogue(link, { trustAnyOwner: true })).toThrow(`${link}: is a symbolic link (not trusted)`);
    }));

  test("a missing file, a directory and a FIFO are refused (the FIFO without blocking)", () =>
    withDir((dir) => {
      const missing = path.join(dir, "missing");
      expect(() => native.parseCatalogue(missing, { trustAnyOwner: true })).toThrow(`${missing}: No such file or directory`);
      expect(() => native.parseCatalogue(dir, { trustAnyOwner: true })).toThrow(`${dir}: not a regular file (not trusted)`);
      const fifo = path.join(dir, "fifo");
      execFileSync("mkfifo", ["-m", "0644", fifo]);
      expect(() => native.parseCatalogue(fifo, { trustAnyOwner: true })).toThrow(`${fifo}: not a regular file (not trusted)`);
    }));

  test("an untrusted bundle is a load fault", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: "return null;" }), 0o666);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d.error).toEqual({ fault: "load", message: `${bundle}: writable by group or others, mode 0666 (not trusted)` });
    }));

  test("an untrusted bytecode file is ignored with a warning and the source is used", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const bundle = writeFile(path.join(dir, "policy.js"), bundleSource({ site: 'return { env: "sl7" };' }));
      native.compile(bundle);
      fs.chmodSync(`${bundle}.qbc`, 0o666);
      const d = native.decide({ bundle, catalogue, context: ALICE, trustAnyOwner: true });
      expect(d).toMatchObject({ env: "sl7", fromBytecode: false });
      expect(d.logs).toEqual([`${bundle}.qbc: writable by group or others, mode 0666 (not trusted); using the source`]);
    }));
});
