// A login's whole decision (chos_session_decide, through the addon's sessionDecide), nothing
// applied: every on_error value against every stage that can fail before a tree is entered, the
// root rule with and without allow_root, and the success paths, each with its outcome, env,
// layer, reason and the session's log line. The facts come from NSS, so the logins are the
// accounts every Debian system has: nobody (uid 65534, group nogroup) and root.
//
// pam_chos's arguments come through `args`, read by the module's own parser (session_args.c):
// the seed's fail_to_default=, on_error= winning over it in either order, and what a bad
// argument says.
import * as fs from "node:fs";
import * as path from "node:path";
import type { OnErrorName, SessionDecision, SessionOptions } from "../../policy/native";
import { ON_ERROR_NAMES } from "../../policy/native";
import { native, type PolicySources, withDir, writeBundle, writeCatalogue, writeFile } from "./lib";

const USER = "nobody";
const GROUP = "nogroup";
const NO_SUCH_USER = "chos-test-no-such-user";
const NO_DEFAULT = "%SHELLS\nsl7:/os/sl7\nel9:/os/el9\n";

/** sessionDecide over a bundle (written unless `policy` is given) and the seed catalogue in dir. */
function session(dir: string, p: PolicySources | string, extra: Partial<SessionOptions> = {}): SessionDecision {
  const catalogue = fs.existsSync(path.join(dir, "chos")) ? path.join(dir, "chos") : writeCatalogue(dir);
  const policy = extra.policy ?? writeBundle(dir, p);
  return native.sessionDecide({ user: USER, service: "sshd", catalogue, ...extra, policy });
}

const SITE_EL9: PolicySources = { site: 'return { env: "el9", reason: "site rule" };' };
const NO_OPINION: PolicySources = { site: "return null;" };

/** What on_error makes of a failure when the catalogue (with its `default`) was read. */
function fallback(onError: OnErrorName): Partial<SessionDecision> {
  switch (onError) {
    case "host":
      return { outcome: "host", env: null, layer: "host", reason: "on_error=host" };
    case "default":
      return { outcome: "env", env: "default", path: "/", layer: "default", reason: "on_error=default" };
    case "deny":
      return { outcome: "deny", env: null, layer: "host", reason: "on_error=deny" };
  }
}

/** The same when there is no catalogue, or it lists no `default`: default falls to the host. */
function fallbackWithoutDefault(onError: OnErrorName): Partial<SessionDecision> {
  return onError === "default"
    ? {
        outcome: "host",
        env: null,
        layer: "host",
        reason: "on_error=default, but the catalogue lists no usable `default`",
      }
    : fallback(onError);
}

describe("the success paths: the policy's layer decides, on_error plays no part", () => {
  test("the site entry: the tree, the layer and the log line", () =>
    withDir((dir) => {
      const d = session(dir, SITE_EL9);
      expect(d).toMatchObject({
        outcome: "env",
        env: "el9",
        path: "/os/el9",
        requested: null,
        reason: "site rule",
        layer: "site",
        failed: "none",
        logs: [],
      });
      expect(d.onError).toBeUndefined();
      expect(d.error).toBeUndefined();
      expect(d.line).toMatch(/^user="nobody" env=el9 requested=- reason="site rule" layer=site backend=none us=\d+$/);
    }));

  test("a group file of the user's group prints as group:NAME", () =>
    withDir((dir) => {
      const d = session(dir, {
        site: "return null;",
        groups: { [GROUP]: 'return { env: "sl7", reason: "by group" };' },
      });
      expect(d).toMatchObject({ outcome: "env", env: "sl7", layer: `group:${GROUP}`, reason: "by group" });
      expect(d.line).toContain(`layer=group:${GROUP} `);
    }));

  test.each([
    ["$CHOS from PAM", { pamEnv: "sl7" }],
    ["$CHOS from the process", { processEnv: "sl7" }],
  ])("a listed request (%s) decides after the policy's layers", (_, request) =>
    withDir((dir) => {
      const d = session(dir, NO_OPINION, { request });
      expect(d).toMatchObject({ outcome: "env", env: "sl7", requested: "sl7", layer: "request" });
      expect(d.line).toContain(" requested=sl7 ");
    }),
  );

  test("PAM's $CHOS wins over the process's", () =>
    withDir((dir) => {
      expect(session(dir, NO_OPINION, { request: { pamEnv: "el9", processEnv: "sl7" } })).toMatchObject({
        env: "el9",
        requested: "el9",
      });
    }));

  test("an unlisted request is recorded but not granted: the catalogue's default", () =>
    withDir((dir) => {
      expect(session(dir, NO_OPINION, { request: { pamEnv: "fedora" } })).toMatchObject({
        outcome: "env",
        env: "default",
        requested: "fedora",
        layer: "default",
        failed: "none",
      });
    }));

  test("a request that is not a valid name is logged and ignored", () =>
    withDir((dir) => {
      const d = session(dir, NO_OPINION, { request: { pamEnv: "../etc" } });
      expect(d).toMatchObject({ env: "default", requested: null, layer: "default" });
      expect(d.logs.join("\n")).toContain("../etc");
    }));

  test("no opinion and no default: the host, which is not a failure", () =>
    withDir((dir) => {
      writeCatalogue(dir, NO_DEFAULT);
      expect(session(dir, NO_OPINION, { onError: "deny" })).toMatchObject({
        outcome: "host",
        env: null,
        path: null,
        layer: "host",
        failed: "none",
      });
    }));

  test("the PAM facts reach the policy", () =>
    withDir((dir) => {
      const site =
        'return { env: "sl7", reason: [ctx.user.name, ctx.user.uid, ctx.service, ctx.remoteHost, ctx.tty].join(" ") };';
      expect(session(dir, { site }, { service: "su", remoteHost: "10.0.0.9", tty: "pts/3" }).reason).toBe(
        "nobody 65534 su 10.0.0.9 pts/3",
      );
    }));

  test("the policy's console output is in logs", () =>
    withDir((dir) => {
      expect(session(dir, { site: 'console.log("hello"); return null;' }).logs).toEqual(["policy: hello"]);
    }));

  test.each(ON_ERROR_NAMES)("a denial is the policy's answer, not a failure (on_error=%s)", (onError) =>
    withDir((dir) => {
      const d = session(dir, { site: 'return { deny: "not today" };' }, { onError });
      expect(d).toMatchObject({ outcome: "deny", env: null, layer: "site", reason: "not today", failed: "none" });
      expect(d.line).toMatch(/^user="nobody" env=\(denied\) requested=- reason="not today" layer=site /);
    }),
  );
});

describe.each(ON_ERROR_NAMES)("on_error=%s decides every failing stage", (onError) => {
  const expectFailed = (d: SessionDecision, failed: SessionDecision["failed"], outcome: Partial<SessionDecision>) => {
    expect(d).toMatchObject({ failed, onError, ...outcome });
    expect(d.line).toContain(` failed=${failed}${d.fault ? ` fault=${d.fault}` : ""} on_error=${onError} error="`);
  };

  test("facts: a user NSS does not know (no catalogue is read, so no default)", () =>
    withDir((dir) => {
      const d = session(dir, SITE_EL9, { user: NO_SUCH_USER, onError });
      expectFailed(d, "facts", fallbackWithoutDefault(onError));
      expect(d.error).toBe(`user "${NO_SUCH_USER}" not found`);
    }));

  test("catalogue: missing", () =>
    withDir((dir) => {
      const d = session(dir, SITE_EL9, { catalogue: path.join(dir, "missing"), onError });
      expectFailed(d, "catalogue", fallbackWithoutDefault(onError));
      expect(d.error).toContain("missing: No such file or directory");
    }));

  test("catalogue: writable by others (the trust rule)", () =>
    withDir((dir) => {
      const catalogue = writeFile(path.join(dir, "chos"), "%SHELLS\ndefault:/\n", 0o666);
      expectFailed(session(dir, SITE_EL9, { catalogue, onError }), "catalogue", fallbackWithoutDefault(onError));
    }));

  test("catalogue: a syntax error", () =>
    withDir((dir) => {
      writeCatalogue(dir, "%SHELLS\nno colon here\n");
      expectFailed(session(dir, SITE_EL9, { onError }), "catalogue", fallbackWithoutDefault(onError));
    }));

  test.each([
    ["load", "a missing bundle", (dir: string) => ({ policy: path.join(dir, "missing.js") })],
    [
      "load",
      "a bundle writable by others",
      (dir: string) => ({ policy: writeFile(path.join(dir, "open.js"), "null;", 0o666) }),
    ],
    [
      "load",
      "a bundle that sets no __chos",
      (dir: string) => ({ policy: writeFile(path.join(dir, "empty.js"), "1;") }),
    ],
    ["throw", "a throw", (dir: string) => ({ policy: writeBundle(dir, { site: 'throw new Error("boom");' }) })],
    ["timeout", "a loop", (dir: string) => ({ policy: writeBundle(dir, { site: "for (;;) {}" }) })],
    [
      "shape",
      "a wrong shape",
      (dir: string) => ({ policy: writeBundle(dir, { site: 'return { env: "el9", extra: 1 };' }) }),
    ],
    [
      "unlisted",
      "an unlisted environment",
      (dir: string) => ({ policy: writeBundle(dir, { site: 'return { env: "fedora" };' }) }),
    ],
  ])("policy: a %s fault (%s)", (fault, _, options) =>
    withDir((dir) => {
      const d = session(dir, NO_OPINION, { ...options(dir), onError });
      expectFailed(d, "policy", fallback(onError));
      expect(d.fault).toBe(fault);
      expect(d.error).toMatch(new RegExp(`^policy ${fault}: `));
    }),
  );

  test("policy fault with a catalogue that lists no default", () =>
    withDir((dir) => {
      writeCatalogue(dir, NO_DEFAULT);
      expectFailed(
        session(dir, { site: 'throw new Error("boom");' }, { onError }),
        "policy",
        fallbackWithoutDefault(onError),
      );
    }));

  test("a missing or untrusted tree is not judged here: the decision names it, applying it fails", () =>
    withDir((dir) => {
      const open = path.join(dir, "open-tree");
      fs.mkdirSync(open);
      fs.chmodSync(open, 0o777);
      writeCatalogue(dir, `%SHELLS\ndefault:/\nopen:${open}\ngone:${path.join(dir, "gone")}\n`);
      for (const env of ["open", "gone"]) {
        expect(session(dir, { site: `return { env: "${env}" };` }, { onError })).toMatchObject({
          outcome: "env",
          env,
          failed: "none",
        });
      }
      expect(() => native.checkTree(open)).toThrow(open);
    }));
});

describe("uid 0", () => {
  test.each(ON_ERROR_NAMES)("stays on the host without allow_root, before anything is read (on_error=%s)", (onError) =>
    withDir((dir) => {
      const d = session(dir, SITE_EL9, {
        user: "root",
        onError,
        catalogue: path.join(dir, "missing"),
        request: { pamEnv: "sl7" },
      });
      expect(d).toMatchObject({
        outcome: "host",
        env: null,
        requested: null,
        layer: "host",
        reason: "root stays on the host (allow_root is not set)",
        failed: "none",
      });
      expect(d.line).toMatch(
        /^user="root" env=\(host\) requested=- reason="root stays on the host \(allow_root is not set\)" layer=host backend=none us=\d+$/,
      );
    }),
  );

  test("with allow_root the policy decides for root too", () =>
    withDir((dir) => {
      expect(session(dir, SITE_EL9, { user: "root", allowRoot: true })).toMatchObject({
        outcome: "env",
        env: "el9",
        layer: "site",
        failed: "none",
      });
      expect(session(dir, NO_OPINION, { user: "root", allowRoot: true, request: { pamEnv: "sl7" } })).toMatchObject({
        env: "sl7",
        requested: "sl7",
        layer: "request",
      });
    }));

  test("with allow_root a denial leaves root on the host", () =>
    withDir((dir) => {
      expect(
        session(dir, { site: 'return { deny: "no" };' }, { user: "root", allowRoot: true, onError: "deny" }),
      ).toMatchObject({
        outcome: "host",
        layer: "host",
        reason: "root is never denied: stays on the host",
        failed: "none",
      });
    }));

  test.each(ON_ERROR_NAMES)("with allow_root any failure leaves root on the host (on_error=%s)", (onError) =>
    withDir((dir) => {
      const root = { user: "root", allowRoot: true, onError };
      const reason = "root stays on the host when anything fails";
      expect(session(dir, SITE_EL9, { ...root, catalogue: path.join(dir, "missing") })).toMatchObject({
        outcome: "host",
        layer: "host",
        reason,
        failed: "catalogue",
        onError,
      });
      expect(session(dir, { site: 'throw new Error("boom");' }, root)).toMatchObject({
        outcome: "host",
        layer: "host",
        reason,
        failed: "policy",
        fault: "throw",
        onError,
      });
    }),
  );
});

describe("bad options are TypeErrors naming the field", () => {
  test.each([
    [{ user: 1 }, "user must be a string"],
    [{ user: "a\0b" }, "user must not contain NUL"],
    [{ user: USER, onError: "maybe" }, 'onError must be "host", "default" or "deny"'],
    [{ user: USER, request: "sl7" }, "request must be an object"],
    [
      { user: USER, request: { userConf: "../.chos" } },
      "request.userConf must be a relative name without . or .. components",
    ],
  ])("%j", (options, message) => {
    // Compared by name and message: the addon's TypeError is not jest's realm's class.
    expect(() => native.sessionDecide(options as unknown as SessionOptions)).toThrow(
      expect.objectContaining({ name: "TypeError", message }),
    );
  });
});

describe("pam_chos's arguments (args), read by the module's parser", () => {
  const THROWS: PolicySources = { site: 'throw new Error("boom");' };

  test.each([
    [["fail_to_default=1"], "default"],
    [["fail_to_default=0"], "host"],
    [["on_error=deny", "fail_to_default=1"], "deny"],
    [["fail_to_default=1", "on_error=deny"], "deny"],
    [["fail_to_default=0", "on_error=default"], "default"],
    [[], "host"],
  ])("%j: a policy fault falls back by on_error=%s", (args, onError) =>
    withDir((dir) => {
      expect(session(dir, THROWS, { args })).toMatchObject({ ...fallback(onError as OnErrorName), onError });
    }),
  );

  test("allow_root and catalogue= and policy= as the module reads them", () =>
    withDir((dir) => {
      const catalogue = writeCatalogue(dir);
      const policy = writeBundle(dir, SITE_EL9);
      const d = native.sessionDecide({
        user: "root",
        args: ["allow_root", `catalogue=${catalogue}`, `policy=${policy}`],
      });
      expect(d).toMatchObject({ outcome: "env", env: "el9", layer: "site" });
    }));

  test("job_views= takes an absolute path (spank_chos pins job views there, pam_chos enters them)", () =>
    withDir((dir) => {
      expect(session(dir, SITE_EL9, { args: [`job_views=${dir}/jobs`] })).toMatchObject({ outcome: "env", env: "el9" });
    }));

  test("an onError field overrides args", () =>
    withDir((dir) => {
      expect(session(dir, THROWS, { args: ["on_error=deny"], onError: "default" })).toMatchObject(fallback("default"));
    }));

  test.each([
    ["on_eror=host", 'unknown argument "on_eror=host"'],
    ["allow-root", 'unknown argument "allow-root"'],
    ["on_error=maybe", 'bad value in "on_error=maybe"'],
    ["backend=chroot", 'bad value in "backend=chroot"'],
    ["fail_to_default=yes", 'bad value in "fail_to_default=yes"'],
    ["policy=relative/policy.js", 'bad value in "policy=relative/policy.js"'],
    ["user_conf_file=../x", 'bad value in "user_conf_file=../x"'],
    ["job_views=run/chos/jobs", 'bad value in "job_views=run/chos/jobs"'],
  ])("%s is refused: %s", (arg, message) => {
    expect(() => native.sessionDecide({ user: USER, args: [arg] })).toThrow(
      expect.objectContaining({ name: "TypeError", message }),
    );
  });
});
