// The build's CHOS_FUZZ switch (top CMakeLists.txt): ON by default when clang is found, and
// `npm run build` asks for it (CI always builds the fuzzers test/core runs; ON without clang is a
// configure error); OFF leaves the fuzz targets out. Checked by configuring the real project
// into a temp dir (no compiling).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "../..");
const FUZZERS = [
  "fuzz_arena",
  "fuzz_bytecode",
  "fuzz_catalogue",
  "fuzz_context",
  "fuzz_decision",
  "fuzz_image",
  "fuzz_policy",
];

/** The fuzz targets a configure with these -D options defines. */
function fuzzTargets(...defines: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-cmake-"));
  try {
    const configure = spawnSync("cmake", ["-S", REPO, "-B", dir, "-G", "Ninja", ...defines], { encoding: "utf8" });
    if (configure.status !== 0) throw new Error(`cmake failed:\n${configure.stdout}${configure.stderr}`);
    const help = spawnSync("cmake", ["--build", dir, "--target", "help"], { encoding: "utf8" });
    return [...new Set(help.stdout.match(/\bfuzz_\w+(?=:)/g) ?? [])].sort();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("CHOS_FUZZ=OFF builds no fuzz target", () => {
  expect(fuzzTargets("-DCHOS_FUZZ=OFF")).toEqual([]);
});

test("CHOS_FUZZ defaults to ON where clang is installed (as scripts/install-deps makes sure)", () => {
  expect(fuzzTargets()).toEqual(FUZZERS);
});

test("npm run build asks for the fuzzers explicitly: without clang it stops at configure, not later in test/core", () => {
  const scripts = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).scripts;
  expect(scripts["build:native"]).toContain("--CDCHOS_FUZZ=ON");
});
