// The version's one home: package.json (CMake, the kernel module and dist/dkms take it from there).
import * as fs from "node:fs";
import * as path from "node:path";

export const VERSION: string = JSON.parse(
  fs.readFileSync(path.join(__dirname, "../../../package.json"), "utf8"),
).version;
