// The libFuzzer targets (pam/fuzz/) run for a bounded time from the committed seed corpora:
// no crash, no sanitizer report, no leak (LeakSanitizer is on in every target). New inputs go
// to a temp dir, never into the repo.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { withDir } from "./lib";

const ROOT = path.resolve(__dirname, "..", "..");
const SECONDS = 15;

function runFuzzer(name: string, corpus: string): void {
  withDir((dir) => {
    const binary = path.join(ROOT, "dist", "native", `fuzz_${name}`);
    expect(fs.existsSync(binary)).toBe(true);
    const run = spawnSync(binary, [`-max_total_time=${SECONDS}`, "-rss_limit_mb=1024", `-artifact_prefix=${dir}/`, dir, corpus], {
      encoding: "utf8",
      timeout: (SECONDS + 60) * 1000,
    });
    const tail = run.stderr.split("\n").slice(-15).join("\n");
    expect({ status: run.status, signal: run.signal, tail }).toEqual({ status: 0, signal: null, tail: expect.stringMatching(/Done \d+ runs/) });
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

  test(`fuzz_policy runs ${SECONDS} s of whole evaluations without a crash or a leak`, () => {
    runFuzzer("policy", path.join(ROOT, "pam", "fuzz", "corpus", "policy"));
  });
});
