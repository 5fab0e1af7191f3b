// The repository's root: the nearest directory up with package.json. Found, not counted from
// __dirname, because these helpers are also bundled into dist/bench/*.js (bench:slurm), where
// __dirname is another depth.
import * as fs from "node:fs";
import * as path from "node:path";

export const REPO = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
})();
