// Entry point of dist/chos-policy.js (built by scripts/build-ts.mjs).
import { processOutput } from "./io";
import { run } from "./main";

run(process.argv.slice(2), processOutput).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`chos-policy: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
