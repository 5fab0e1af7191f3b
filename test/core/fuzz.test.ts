// The libFuzzer targets (pam/fuzz/) run for a bounded time from the committed seed corpora:
// no crash, no sanitizer report, no leak (LeakSanitizer is on in every target). New inputs go
// to a temp dir, never into the repo.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { withDir } from "./lib";

const ROOT = path.resolve(__dirname, "..", "..");
const SECONDS = 15;

function runFuzzer(name: string, corpus: string): void {
  withDir((dir) => {
    const binary = path.join(ROOT, "dist", "native", `fuzz_${name}`);
    expect(fs.existsSync(binary)).toBe(true);
    const run = spawnSync(
      binary,
      [`-max_total_time=${SECONDS}`, "-rss_limit_mb=1024", `-artifact_prefix=${dir}/`, dir, corpus],
      {
        encoding: "utf8",
        timeout: (SECONDS + 60) * 1000,
      },
    );
    const tail = run.stderr.split("\n").slice(-15).join("\n");
    expect({ status: run.status, signal: run.signal, tail }).toEqual({
      status: 0,
      signal: null,
      tail: expect.stringMatching(/Done \d+ runs/),
    });
  });
}

describe("fuzz targets", () => {
  test(`fuzz_catalogue runs ${SECONDS} s without a crash`, () => {
    runFuzzer("catalogue", path.join(ROOT, "pam", "fuzz", "corpus", "catalogue"));
  });

  test(`fuzz_context runs ${SECONDS} s: the login context's JSON always parses`, () => {
    runFuzzer("context", path.join(ROOT, "pam", "fuzz", "corpus", "context"));
  });

  test(`fuzz_decision runs ${SECONDS} s without a crash`, () => {
    runFuzzer("decision", path.join(ROOT, "pam", "fuzz", "corpus", "decision"));
  });

  test(`fuzz_arena runs ${SECONDS} s: the sandbox's allocator keeps every block's bytes, and its counts`, () => {
    runFuzzer("arena", path.join(ROOT, "pam", "fuzz", "corpus", "arena"));
  });

  test(`fuzz_bytecode runs ${SECONDS} s: a corrupt BUNDLE.qbc only ever falls back to the source`, () => {
    runFuzzer("bytecode", path.join(ROOT, "pam", "fuzz", "corpus", "bytecode"));
  });

  test("the committed bytecode seed is fuzz_bytecode's own fresh bytecode, so the fuzzer starts past the checks", () => {
    withDir((dir) => {
      const seed = path.join(dir, "tiny.qbc");
      const run = spawnSync(path.join(ROOT, "dist", "native", "fuzz_bytecode"), ["-runs=0", dir], {
        encoding: "utf8",
        env: { ...process.env, CHOS_FUZZ_WRITE_SEED: seed },
        timeout: 60000,
      });
      expect({ status: run.status, signal: run.signal }).toEqual({ status: 0, signal: null });
      const committed = fs.readFileSync(path.join(ROOT, "pam", "fuzz", "corpus", "bytecode", "tiny.qbc"));
      expect(fs.readFileSync(seed).equals(committed)).toBe(true);
    });
  });

  test(`fuzz_image runs ${SECONDS} s: the image readers refuse only as image.h says, and accept only sound superblocks`, () => {
    runFuzzer("image", path.join(ROOT, "pam", "fuzz", "corpus", "image"));
  });

  test(`fuzz_policy runs ${SECONDS} s of whole evaluations without a crash or a leak`, () => {
    runFuzzer("policy", path.join(ROOT, "pam", "fuzz", "corpus", "policy"));
  });
});
