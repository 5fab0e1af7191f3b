// Every product source is named by the build, and a missing one fails it: the build lists files,
// it never globs or skips what is absent. Checked by configuring (and, where the file is a build
// step's input, building one target of) a copy of the tracked tree with one file removed.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const REPO = path.resolve(__dirname, "../..");
const TRACKED = spawnSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" })
  .stdout.split("\0")
  .filter((f) => f !== "" && fs.existsSync(path.join(REPO, f)));
const BUILD_FILES = TRACKED.filter((f) => /(^|\/)(CMakeLists\.txt|Kbuild)$/.test(f));

/** Configures a copy of the tracked tree without `removed`, then builds `target` if given. */
function buildWithout(removed: string, target?: string): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-sources-"));
  try {
    const src = path.join(dir, "src");
    for (const f of TRACKED.filter((t) => t !== removed)) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      fs.copyFileSync(path.join(REPO, f), path.join(src, f));
    }
    fs.chmodSync(path.join(src, "scripts/fetch-quickjs"), 0o755);
    const bin = path.join(dir, "build");
    const run = (args: string[]) => spawnSync("cmake", args, { encoding: "utf8" });
    let step = run(["-S", src, "-B", bin, "-G", "Ninja", "-DCHOS_FUZZ=ON"]);
    if (step.status === 0 && target) step = run(["--build", bin, "--target", target]);
    return { ok: step.status === 0, output: `${step.stdout}${step.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("every C source under pam/, bench/ and kmod/ is named by a CMakeLists.txt or Kbuild above it", () => {
  const sources = TRACKED.filter((f) => /^(pam|bench|kmod)\/.*\.(c|cc)$/.test(f));
  const unlisted = sources.filter((f) => {
    const base = path.basename(f).replace(/\.c$/, "");
    return !BUILD_FILES.some(
      (b) => f.startsWith(`${path.dirname(b)}/`) && fs.readFileSync(path.join(REPO, b), "utf8").includes(base),
    );
  });
  expect(sources.length).toBeGreaterThan(40);
  expect(unlisted).toEqual([]);
});

// One file of each kind: a core source, a directory's CMakeLists.txt, a command's source (all
// fail at configure), a fuzz target's and the kernel module's (inputs of build steps).
test.each([
  ["pam/core/facts/request.c", undefined],
  ["pam/module/CMakeLists.txt", undefined],
  ["pam/cmd/list.c", undefined],
  ["pam/spank/step_facts.c", undefined],
  ["pam/fuzz/fuzz_policy.c", "fuzz_policy"],
  ["kmod/tasks.c", "kmod_dkms"],
])(
  "without %s the build fails",
  (removed, target) => {
    const { ok, output } = buildWithout(removed, target);
    expect(ok).toBe(false);
    expect(output).toContain(path.basename(removed));
  },
  120_000,
);

test("the intact tree configures (the failures above are the removed files)", () => {
  expect(buildWithout("README.md").ok).toBe(true);
}, 120_000);
