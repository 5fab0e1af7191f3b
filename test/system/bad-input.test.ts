// Every bad input pam_chos can meet, each with its defined outcome asserted through real PAM
// (pamtester's exit code and the PRETTY_NAME the session saw) and the one log line that says
// why. Users' files and variables are requests only: a bad one is ignored and logged. Broken
// site configuration is a fault: on_error= decides (host by default). Root is never locked out.

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expectOpenedIn, expectRefused, type Opened, openWith } from "./lib/opened";
import { exampleCatalogue, rawBundle, writeConfig } from "./lib/site";
import { pamSuite } from "./lib/suite";
import { PRETTY } from "./lib/trees";
import { testUser, writeChosFile } from "./lib/users";

const suite = pamSuite(["alice"]);

const open = (user: string, extra: readonly string[] = [], env: Record<string, string> = {}): Promise<Opened> =>
  openWith(suite, user, extra, env);

// The ~/.chos cases use alice (physics): a valid `tiny` request from her would be honoured.
describe("~/.chos tricks are ignored and logged; alice lands in her group default (trixie)", () => {
  test.each<[string, (f: string) => void, RegExp]>([
    ["a symlink to /etc/shadow", (f) => fs.symlinkSync("/etc/shadow", f), /\.chos: is a symbolic link/],
    [
      "a symlink to a file saying tiny",
      (f) => {
        fs.writeFileSync(`${f}-target`, "tiny\n");
        fs.symlinkSync(`${f}-target`, f);
      },
      /\.chos: is a symbolic link/,
    ],
    ["a FIFO (no writer: must not hang)", (f) => execFileSync("mkfifo", [f]), /\.chos: not a regular file/],
    ["a directory", (f) => fs.mkdirSync(f), /\.chos: not a regular file/],
    [
      "a 10 MB file starting with tiny",
      (f) => {
        const big = Buffer.alloc(10 << 20, "x");
        big.write("tiny\n");
        fs.writeFileSync(f, big);
      },
      /\.chos: larger than 4096 bytes/,
    ],
    ["a NUL in the first line", (f) => fs.writeFileSync(f, "tiny\0../../etc\n"), /the first line contains a NUL byte/],
    [
      "a name with ../",
      (f) => fs.writeFileSync(f, "../tiny\n"),
      /request "\.\.\/tiny" from \/home\/alice\/\.chos ignored: not a valid environment name/,
    ],
    [
      "a path",
      (f) => fs.writeFileSync(f, "/var/cache/chos-build/trees/tiny\n"),
      /request "\/var\/cache\/chos-build\/trees\/tiny" from .* ignored: not a valid environment name/,
    ],
    [
      "a first line longer than a name",
      (f) => fs.writeFileSync(f, `${"t".repeat(65)}\n`),
      /the first line is longer than 64 bytes/,
    ],
  ])("%s", async (_what, make, logged) => {
    try {
      writeChosFile("alice", make);
      const o = await open("alice");
      expectOpenedIn(o, PRETTY.trixie);
      expect(o.log).toMatch(logged);
      expect(o.log).toMatch(/user="alice" env=trixie requested=- .*layer=group:physics/);
    } finally {
      fs.rmSync(path.join(testUser("alice").home, ".chos-target"), { force: true });
    }
  });

  test("a file alice cannot read (root-owned, mode 600) is refused: the reader runs as alice", async () => {
    const file = writeChosFile("alice", (f) => fs.writeFileSync(f, "tiny\n", { mode: 0o600 }));
    fs.chownSync(file, 0, 0);
    const o = await open("alice");
    expectOpenedIn(o, PRETTY.trixie);
    expect(o.log).toMatch(/request file ignored: \/home\/alice\/\.chos: Permission denied/);
  });

  test("an empty first line is no request (the second line is not read)", async () => {
    writeChosFile("alice", (f) => fs.writeFileSync(f, "\ntiny\n"));
    expectOpenedIn(await open("alice"), PRETTY.trixie);
  });

  test("blanks and a CRLF around the name are forgiven", async () => {
    writeChosFile("alice", (f) => fs.writeFileSync(f, "  tiny \r\n"));
    expectOpenedIn(await open("alice"), PRETTY.tiny);
  });

  test("an unlisted name is a request nobody grants: erin gets the catalogue default", async () => {
    const u = testUser("erin");
    const file = path.join(u.home, ".chos");
    fs.writeFileSync(file, "sid\n");
    try {
      const o = await open("erin");
      expectOpenedIn(o, PRETTY.trixie);
      expect(o.log).toMatch(/user="erin" env=default requested=sid .*layer=default/);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe("$CHOS tricks are ignored and logged", () => {
  test.each([
    ["../tiny", "../tiny"],
    ["a path", "/var/cache/chos-build/trees/tiny"],
    ["a newline", "tiny\nextra"],
    ["tiny/../trixie", "tiny/../trixie"],
    ["100 KB", "t".repeat(100_000)],
    ["empty", ""],
  ])("CHOS=%s keeps alice in trixie", async (_what, value) => {
    const o = await open("alice", [], { CHOS: value });
    expectOpenedIn(o, PRETTY.trixie);
    expect(o.log).toMatch(/request ".*" from \$CHOS ignored: not a valid environment name/);
  });

  test("a rejected $CHOS does not fall through to ~/.chos", async () => {
    writeChosFile("alice", (f) => fs.writeFileSync(f, "tiny\n"));
    expectOpenedIn(await open("alice", [], { CHOS: "../x" }), PRETTY.trixie);
  });

  test("CHOS=sid (unlisted) gives erin the catalogue default", async () => {
    const o = await open("erin", [], { CHOS: "sid" });
    expectOpenedIn(o, PRETTY.trixie);
    expect(o.log).toMatch(/user="erin" env=default requested=sid .*layer=default/);
  });
});

describe("a broken catalogue is a fault: on_error decides, host by default", () => {
  function catalogue(name: string, text: string, mode = 0o644, uid = 0): string {
    const file = path.join(suite.site.dir, name);
    writeConfig(file, text, mode);
    fs.chownSync(file, uid, 0);
    return file;
  }

  test.each<[string, () => string, RegExp]>([
    [
      "not root-owned",
      () => catalogue("cat-owner", exampleCatalogue(suite.site.trees), 0o644, testUser("alice") && 1),
      /owned by uid 1, not root \(not trusted\)/,
    ],
    [
      "group-writable",
      () => catalogue("cat-g", exampleCatalogue(suite.site.trees), 0o664),
      /writable by group, mode 0664/,
    ],
    [
      "world-writable",
      () => catalogue("cat-o", exampleCatalogue(suite.site.trees), 0o646),
      /writable by others, mode 0646/,
    ],
    ["malformed", () => catalogue("cat-bad", "%SHELLS\nthis is not name and path\n"), /line 2/],
    ["missing", () => path.join(suite.site.dir, "no-such-catalogue"), /no-such-catalogue: No such file or directory/],
  ])("%s: alice stays on the host and it is logged", async (_what, make, logged) => {
    const o = await open("alice", [`catalogue=${make()}`]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(/user="alice" env=\(host\) .*failed=catalogue on_error=host error=/);
    expect(o.log).toMatch(logged);
  });

  test("with on_error=deny the session is refused", async () => {
    const file = catalogue("cat-g2", exampleCatalogue(suite.site.trees), 0o664);
    expectRefused(await open("alice", [`catalogue=${file}`, "on_error=deny"]));
  });

  test("with on_error=default there is no default to trust either: the host", async () => {
    const file = catalogue("cat-g3", exampleCatalogue(suite.site.trees), 0o664);
    expectOpenedIn(await open("alice", [`catalogue=${file}`, "on_error=default"]), PRETTY.host);
  });
});

describe("a listed tree that is missing is an apply fault", () => {
  function catalogueWithMissingTrixie(): string {
    const file = path.join(suite.site.dir, "cat-missing-tree");
    writeConfig(
      file,
      `%SHELLS\ntrixie:/nonexistent/trixie\ntiny:${suite.site.trees.tiny}\ndefault:${suite.site.trees.tiny}\n`,
    );
    return file;
  }

  test("on_error=host: alice (physics -> trixie) stays on the host, the log names the path", async () => {
    const o = await open("alice", [`catalogue=${catalogueWithMissingTrixie()}`]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(
      /failed=apply on_error=host error="namespace backend: tree \/nonexistent\/trixie: No such file or directory; create it or fix the catalogue"/,
    );
  });

  test("on_error=default: alice lands in the default (tiny here)", async () => {
    expectOpenedIn(await open("alice", [`catalogue=${catalogueWithMissingTrixie()}`, "on_error=default"]), PRETTY.tiny);
  });

  test("fail_to_default=1 (the seed argument) means on_error=default", async () => {
    expectOpenedIn(
      await open("alice", [`catalogue=${catalogueWithMissingTrixie()}`, "fail_to_default=1"]),
      PRETTY.tiny,
    );
  });

  test("on_error=deny: refused", async () => {
    expectRefused(await open("alice", [`catalogue=${catalogueWithMissingTrixie()}`, "on_error=deny"]));
  });
});

/** A policy bundle in the site's dir whose decide() runs BODY (rawBundle). */
function bundle(name: string, body: string): string {
  const file = path.join(suite.site.dir, name);
  writeConfig(file, rawBundle(body));
  return file;
}

describe("a policy fault: on_error decides, host by default", () => {
  test.each<[string, () => string, string]>([
    ["missing", () => path.join(suite.site.dir, "no-such-policy.js"), "load"],
    [
      "a directory (unreadable as a file)",
      () => {
        const d = path.join(suite.site.dir, "policy-dir.js");
        fs.mkdirSync(d, { recursive: true });
        return d;
      },
      "load",
    ],
    [
      "not root-owned",
      () => {
        const f = bundle("policy-owner.js", "return null;");
        fs.chownSync(f, 1, 0);
        return f;
      },
      "load",
    ],
    ["throwing", () => bundle("policy-throw.js", 'throw new Error("boom");'), "throw"],
    ["looping", () => bundle("policy-loop.js", "for (;;) {}"), "timeout"],
    [
      "looping inside try/catch",
      () => bundle("policy-loop-catch.js", "for (;;) { try { for (;;) {} } catch (e) {} }"),
      "timeout",
    ],
    [
      "exhausting memory",
      () => bundle("policy-memory.js", "const a = []; for (;;) a.push(new Array(1e6).fill(1));"),
      "memory",
    ],
    ["recursing without end", () => bundle("policy-stack.js", "const f = (n) => f(n + 1) + 1; return f(0);"), "stack"],
    [
      "returning an unlisted name",
      () =>
        bundle("policy-unlisted.js", 'return { layer: "site", file: "index.ts", value: { env: "sid", reason: "x" } };'),
      "unlisted",
    ],
    [
      "returning a wrong shape",
      () => bundle("policy-shape.js", 'return { layer: "site", file: "index.ts", value: { env: "tiny", extra: 1 } };'),
      "shape",
    ],
  ])("%s: bob stays on the host (fault %s logged)", async (_what, make, fault) => {
    const o = await open("bob", [`policy=${make()}`]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(
      new RegExp(`user="bob" env=\\(host\\) .*failed=policy fault=${fault} on_error=host error="policy`),
    );
  });

  test("on_error=default: bob (normally tiny) lands in the default, trixie", async () => {
    const f = bundle("policy-throw2.js", 'throw new Error("boom");');
    expectOpenedIn(await open("bob", [`policy=${f}`, "on_error=default"]), PRETTY.trixie);
  });

  test("on_error= wins over fail_to_default=", async () => {
    const f = bundle("policy-throw3.js", 'throw new Error("boom");');
    expectOpenedIn(await open("bob", [`policy=${f}`, "on_error=host", "fail_to_default=1"]), PRETTY.host);
  });

  test("on_error=deny: refused", async () => {
    const f = bundle("policy-throw4.js", 'throw new Error("boom");');
    expectRefused(await open("bob", [`policy=${f}`, "on_error=deny"]));
  });

  test("a policy denial refuses the session", async () => {
    const f = bundle(
      "policy-deny.js",
      'return { layer: "site", file: "index.ts", value: { deny: "closed for maintenance" } };',
    );
    const o = await open("bob", [`policy=${f}`]);
    expectRefused(o);
    expect(o.log).toMatch(/authpriv\.notice .*user="bob" env=\(denied\) .*reason="closed for maintenance" layer=site/);
  });
});

describe("the root and the backend", () => {
  test("/chos missing (root= nonexistent): host, and the log says what to run", async () => {
    const o = await open("alice", [`root=${path.join(suite.site.dir, "no-root")}`]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(
      /failed=apply on_error=host error="namespace backend: root .*no-root: No such file or directory; run `chos setup`"/,
    );
  });

  test("/chos missing with on_error=deny: refused", async () => {
    expectRefused(await open("alice", [`root=${path.join(suite.site.dir, "no-root")}`, "on_error=deny"]));
  });

  test("backend=kmod without the kernel module fails clearly, not silently", async () => {
    const o = await open("alice", ["backend=kmod"]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(/failed=apply on_error=host error="kmod backend: .*"/);
  });

  test("auto enters the backend the root is laid out for: a kmod layout without the module fails as kmod, saying to run chos setup", async () => {
    const root = path.join(suite.site.dir, "kmod-layout-root");
    fs.mkdirSync(root, { recursive: true });
    fs.rmSync(path.join(root, ".chos-link"), { force: true });
    fs.symlinkSync(".chosfs/link", path.join(root, ".chos-link"));
    const o = await open("alice", [`root=${root}`]);
    expectOpenedIn(o, PRETTY.host);
    expect(o.log).toMatch(
      /backend=none us=\d+ failed=apply on_error=host error="kmod backend: .*kmod-layout-root\/\.chosfs does not show the chos filesystem; run `chos setup`"/,
    );
  });
});

describe("root is never locked out", () => {
  test("allow_root + on_error=deny + a throwing policy: root stays on the host", async () => {
    const f = bundle("policy-throw-root.js", 'throw new Error("boom");');
    expectOpenedIn(await open("root", [`policy=${f}`, "allow_root", "on_error=deny"]), PRETTY.host);
  });

  test("allow_root + a denying policy: root stays on the host", async () => {
    const f = bundle("policy-deny-root.js", 'return { layer: "site", file: "index.ts", value: { deny: "no" } };');
    expectOpenedIn(await open("root", [`policy=${f}`, "allow_root"]), PRETTY.host);
  });

  test("without allow_root nothing is even read: a missing catalogue and on_error=deny still open", async () => {
    expectOpenedIn(
      await open("root", [`catalogue=${path.join(suite.site.dir, "nothing")}`, "on_error=deny"]),
      PRETTY.host,
    );
  });
});

describe("module arguments fail closed", () => {
  test.each([
    ["on_eror=host"],
    ["allow-root"],
    ["on_error=maybe"],
    ["backend=chroot"],
    ["fail_to_default=yes"],
    ["user_conf_file=../x"],
    ["user_conf_file=/etc/shadow"],
    ["policy=relative.js"],
  ])("%s refuses the session with a LOG_ERR line", async (arg) => {
    const o = await open("alice", [arg]);
    expectRefused(o);
    expect(o.log).toMatch(
      new RegExp(
        `authpriv\\.err .*(unknown argument|bad value in) "${arg.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}": session refused`,
      ),
    );
  });
});
