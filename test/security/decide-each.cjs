"use strict";
// Child process of bytecode.test.ts: evaluates one bundle once per file of a directory of
// bytecode files, each copied to BUNDLE.qbc first, through the real core (the addon), and
// prints one JSON line per evaluation. Run apart from jest so a crash or a hang in the core
// costs this process, not the test run; the parent restarts it after the file that killed it.
// Usage: node decide-each.cjs OPTIONS_JSON DIR FIRST_INDEX
const fs = require("node:fs");
const path = require("node:path");

const native = require(path.resolve(__dirname, "..", "..", "dist", "native", "chos_addon.node"));
const [options, dir, first] = [JSON.parse(process.argv[2]), process.argv[3], Number(process.argv[4])];
const files = fs.readdirSync(dir).sort();

for (let i = first; i < files.length; i++) {
  fs.copyFileSync(path.join(dir, files[i]), `${options.bundle}.qbc`);
  const d = native.decide(options);
  process.stdout.write(`${JSON.stringify({ index: i, decision: d })}\n`);
}
