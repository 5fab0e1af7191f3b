// The OS trees of the system tiers, from scripts/make-trees (cached; instant after the first run).
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { REPO } from "./repo";

export interface Trees {
  /** busybox-static tree; PRETTY_NAME="chos tiny (busybox)". */
  readonly tiny: string;
  /** Debian trixie minbase; PRETTY_NAME="Debian GNU/Linux 13 (trixie)". */
  readonly trixie: string;
}

export const PRETTY = {
  host: "Debian GNU/Linux 12 (bookworm)",
  tiny: "chos tiny (busybox)",
  trixie: "Debian GNU/Linux 13 (trixie)",
} as const;

/** Builds the trees if needed and returns their real paths (the ones a catalogue lists). */
export function prepareTrees(linkDir: string): Trees {
  const out = execFileSync(path.join(REPO, "scripts/make-trees"), [linkDir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 590_000,
  });
  const paths = new Map(
    out
      .trim()
      .split("\n")
      .map((l) => l.split(" ") as [string, string]),
  );
  return { tiny: paths.get("tiny")!, trixie: paths.get("trixie")! };
}
