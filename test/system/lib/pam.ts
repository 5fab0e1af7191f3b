// PAM services for the tests, and pamtester runs inside a site's namespace.
// A service is `session requisite pam_chos.so ARGS` followed by pam_exec printing the
// /etc/os-release the session sees (pam_exec after pam_chos runs inside the session): pamtester's exit code says whether the session
// opened, the printed PRETTY_NAME says which tree it is in.
import * as fs from "node:fs";
import type { RunOptions, RunResult } from "./namespace";
import { PAM_CHOS, type TestSite } from "./site";

export interface PamRun extends RunResult {
  /** PRETTY_NAME printed from inside the session, or null when nothing was printed. */
  readonly pretty: string | null;
}

let serial = 0;

/** Writes /etc/pam.d/chos-test-PID-N and returns its service name. */
export function writeService(args: readonly string[], before: readonly string[] = []): string {
  const name = `chos-test-${process.pid}-${serial++}`;
  const lines = [
    ...before,
    `session requisite ${PAM_CHOS} ${args.join(" ")}`,
    "session optional pam_exec.so stdout /bin/cat /etc/os-release",
  ];
  fs.writeFileSync(`/etc/pam.d/${name}`, `${lines.join("\n")}\n`, { mode: 0o644 });
  return name;
}

export function removeService(name: string): void {
  fs.rmSync(`/etc/pam.d/${name}`, { force: true });
}

export function prettyName(stdout: string): string | null {
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(stdout);
  return m ? m[1] : null;
}

const PAMTESTER = (service: string, user: string) => ["pamtester", service, user, "open_session", "close_session"];

export function pamtester(site: TestSite, service: string, user: string, opts: RunOptions = {}): PamRun {
  const r = site.ns.run(PAMTESTER(service, user), opts);
  return { ...r, pretty: prettyName(r.stdout) };
}

export async function pamtesterAsync(
  site: TestSite,
  service: string,
  user: string,
  opts: RunOptions = {},
): Promise<PamRun> {
  const r = await site.ns.runAsync(PAMTESTER(service, user), opts);
  return { ...r, pretty: prettyName(r.stdout) };
}
