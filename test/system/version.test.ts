// The version has one home, package.json: the kernel module, its DKMS tree and `chos setup`'s
// advice (test/system/setup.test.ts) all carry the one the build read from there.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { VERSION } from "./lib/version";

const DIST = path.resolve(__dirname, "../../dist");

test("chos.ko reports package.json's version (modinfo, and /proc/chos/version in test/vm)", () => {
  const modinfo = spawnSync("modinfo", ["-F", "version", path.join(DIST, "native/chos.ko")], { encoding: "utf8" });
  expect(modinfo.stdout.trim()).toBe(VERSION);
});

test("the DKMS tree dist/dkms is that version, and builds the module with it", () => {
  const conf = fs.readFileSync(path.join(DIST, "dkms/dkms.conf"), "utf8");
  expect(conf).toContain(`PACKAGE_VERSION="${VERSION}"`);
  expect(conf).toMatch(/^MAKE\[0\]=".*CHOS_VERSION=\$\{PACKAGE_VERSION\}.*"$/m);
  expect(fs.readdirSync(path.join(DIST, "dkms")).sort()).toEqual([
    "Kbuild",
    "Makefile",
    "chos.h",
    "chosfs.c",
    "compat.h",
    "dkms.conf",
    "paths.c",
    "tasks.c",
  ]);
});
