// One pamtester session with the suite site's module arguments overridden by extra ones, its
// syslog lines, and the two outcomes the bad-input and security suites assert.
import { type PamRun, pamtester } from "./pam";
import type { PamSuite } from "./suite";

export interface Opened {
  readonly r: PamRun;
  /** The syslog lines this session wrote. */
  readonly log: string;
}

/** Opens a session for user; extra arguments replace the site's of the same name. */
export async function openWith(
  suite: PamSuite,
  user: string,
  extra: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<Opened> {
  const args = new Map(suite.site.moduleArgs().map((a) => [a.split("=")[0], a] as const));
  for (const a of extra) args.set(a.split("=")[0], a);
  const name = suite.service([...args.values()]);
  const mark = suite.site.ns.syslogMark();
  const r = pamtester(suite.site, name, user, { env });
  const log = await suite.site.ns.syslogSince(mark, new RegExp(`user="${user}" env=|unknown argument|bad value`));
  return { r, log };
}

export function expectOpenedIn(o: Opened, pretty: string): void {
  expect(o.r.stdout).toContain("pamtester: successfully opened a session");
  expect(o.r.status).toBe(0);
  expect(o.r.pretty).toBe(pretty);
}

export function expectRefused(o: Opened): void {
  expect(o.r.status).not.toBe(0);
  expect(o.r.stdout).not.toContain("successfully opened");
  expect(o.r.pretty).toBeNull();
}
