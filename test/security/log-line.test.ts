// The one syslog line per session cannot be forged: the policy chooses its reason (and a
// denial's text, and an exception's message quoted in error=), so a newline or a quote in it
// must not end the field or start a second line. chos_log_quote escapes them where the line is
// built (session.c), for every sink.
import * as path from "node:path";
import { pamtester } from "../system/lib/pam";
import { rawBundle, writeConfig } from "../system/lib/site";
import { pamSuite } from "../system/lib/suite";

const suite = pamSuite([]);
const FORGED = 'ok\\nJan  1 00:00:00 host sshd[1]: Accepted password for root\\" env=x';

function policyReturning(name: string, body: string): string {
  const file = path.join(suite.site.dir, name);
  writeConfig(file, rawBundle(body));
  return file;
}

async function sessionLines(policy: string): Promise<string[]> {
  const mark = suite.site.ns.syslogMark();
  const r = pamtester(suite.site, suite.service([...suite.site.moduleArgs(), `policy=${policy}`]), "alice");
  expect(r.status === 0 || r.status === 1).toBe(true);
  const log = await suite.site.ns.syslogSince(mark, /user="alice"/);
  return log.split("\n").filter((l) => l.length > 0);
}

test("a reason with a newline and a quote stays inside its field of the one session line", async () => {
  const policy = policyReturning(
    "policy-forge-reason.js",
    `return { layer: "site", file: "index.ts", value: { env: "tiny", reason: "${FORGED}" } };`,
  );
  const lines = await sessionLines(policy);
  expect(lines.filter((l) => l.includes("Accepted password"))).toHaveLength(1);
  expect(lines.join("\n")).toContain(
    'reason="ok\\x0aJan  1 00:00:00 host sshd[1]: Accepted password for root\\" env=x" layer=site',
  );
});

test("a denial text with a newline stays inside its field", async () => {
  const policy = policyReturning(
    "policy-forge-deny.js",
    `return { layer: "site", file: "index.ts", value: { deny: "${FORGED}" } };`,
  );
  const lines = await sessionLines(policy);
  expect(lines.filter((l) => l.includes("Accepted password"))).toHaveLength(1);
  expect(lines.join("\n")).toContain(
    'reason="ok\\x0aJan  1 00:00:00 host sshd[1]: Accepted password for root\\" env=x"',
  );
});

test("an exception message with a newline is escaped in error=", async () => {
  const policy = policyReturning("policy-forge-throw.js", `throw new Error("${FORGED}");`);
  const lines = await sessionLines(policy);
  expect(lines.filter((l) => l.includes("Accepted password"))).toHaveLength(1);
  expect(lines.join("\n")).toContain(
    'failed=policy fault=throw on_error=host error="policy throw: Error: ok\\x0aJan  1 00:00:00 host sshd[1]: Accepted password for root\\" env=x in index.ts"',
  );
});
