// The chos command on a namespace-layout root: list, current, run and bare chos, for root and
// for unprivileged test users (who switch through a user namespace of their own), the policy
// consulted with service "chos", the tree's %ENV list, and every refusal with its message.
// Users and groups (test/system/lib/users.ts): alice/physics (trixie or tiny on request),
// bob/chemistry (always tiny), erin (no site group: her request decides).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { prepareTrees } from "../system/lib/trees";
import { acquireTestUsers } from "../system/lib/users";
import {
  asUser,
  buildPolicy,
  CHOS,
  chosCmd,
  makeSite,
  q,
  removeSite,
  type Site,
  scenario,
  userWords,
} from "./lib/fixture";

const TINY = 'PRETTY_NAME="chos tiny (busybox)"';
const TRIXIE = 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"';

let releaseUsers: () => void;
let policyDir: string;

beforeAll(() => {
  releaseUsers = acquireTestUsers();
  policyDir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-cmd-policy-"));
  buildPolicy(policyDir);
  // The first run on a machine debootstraps trixie (about 40 s): here, not inside a test.
  prepareTrees(path.join(policyDir, "trees"));
}, 900_000);

afterAll(() => {
  fs.rmSync(policyDir, { recursive: true, force: true });
  releaseUsers();
});

function withSite(fn: (site: Site) => void): void {
  const site = makeSite(policyDir);
  try {
    fn(site);
  } finally {
    removeSite(site);
  }
}

describe("chos list", () => {
  test("an unprivileged user sees exactly the environments the policy grants them", () => {
    withSite((site) => {
      const alice = scenario(site, asUser("alice", chosCmd(site, "list")));
      expect(alice.stderr).toBe("");
      expect(alice.stdout).toBe(`trixie\t${site.trixie}\ntiny\t${site.tiny}\n`);
      expect(alice.status).toBe(0);
      const bob = scenario(site, asUser("bob", chosCmd(site, "list")));
      expect(bob.stdout).toBe(`tiny\t${site.tiny}\n`);
      expect(bob.status).toBe(0);
    });
  });

  test("root, in no site group, may use every listed environment (its request decides)", () => {
    withSite((site) => {
      const r = scenario(site, chosCmd(site, "list"));
      expect(r.stdout).toBe(`trixie\t${site.trixie}\ntiny\t${site.tiny}\ndefault\t${site.trixie}\n`);
      expect(r.status).toBe(0);
    });
  });

  test("the policy is loaded once for every environment, and alice's group unit once", () => {
    withSite((site) => {
      // --debug prints the core's debug lines: one per load of the base unit.
      const r = scenario(site, asUser("alice", chosCmd(site, "list", "--debug")));
      expect(r.stdout).toBe(`trixie\t${site.trixie}\ntiny\t${site.tiny}\n`);
      expect(r.stderr.split("\n").filter((l) => l.endsWith(": base unit loaded from bytecode"))).toHaveLength(1);
      expect(r.status).toBe(0);
    });
  });

  test("--all gives every refused environment the policy's reason and layer", () => {
    withSite((site) => {
      const r = scenario(site, asUser("bob", chosCmd(site, "list", "--all")));
      expect(r.stdout.split("\n")).toContain(
        `trixie\t${site.trixie}\trefused: the policy chooses 'tiny' for you: the certified solver runs on tiny only (group:chemistry)`,
      );
      expect(r.status).toBe(0);
    });
  });

  test("an untrusted catalogue is an error, not an empty list", () => {
    withSite((site) => {
      fs.chmodSync(site.catalogue, 0o666);
      const list = scenario(site, asUser("alice", chosCmd(site, "list")), "", false);
      expect(list.stdout).toBe("");
      expect(list.stderr).toMatch(/^chos: .*catalogue.*writable/m);
      expect(list.status).toBe(1);
    });
  });
});

describe("misuse of the options", () => {
  // Each misuse is exit 2 and one line naming it: a missing value is not an unknown option.
  test.each([
    [["list", "--root"], "chos list: --root needs a value; see 'chos --help'"],
    [["run", "--catalogue"], "chos run: --catalogue needs a value; see 'chos --help'"],
    [["list", "--bogus"], "chos list: unknown option --bogus; see 'chos --help'"],
    [["list", "-xy"], "chos list: unknown option -x; see 'chos --help'"],
    [["list", "--catalogue=/x", "--debug=1"], "chos list: --debug takes no value; see 'chos --help'"],
    [["run", "--all", "tiny"], "chos run: unknown option --all; see 'chos --help'"],
  ])("chos %j", (args, line) => {
    const r = spawnSync(CHOS, args, { encoding: "utf8" });
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(2);
  });
});

describe("chos current", () => {
  test("on the host it says no environment and the host view, for a user and for root", () => {
    withSite((site) => {
      const r = scenario(site, asUser("alice", `${q(site.chos)} current`));
      expect(r.stdout).toBe("env: none\nview: host\n");
      expect(r.status).toBe(0);
      const root = scenario(site, `env -u CHOS ${q(site.chos)} current`);
      expect(root.stdout).toBe("env: none\nview: host\n");
      expect(root.status).toBe(0);
    });
  });

  test("inside chos run it names the environment and the chos view", () => {
    withSite((site) => {
      const r = scenario(site, asUser("alice", chosCmd(site, "run", "trixie", "--", site.chos, "current")));
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("env: trixie\nview: chos\n");
      expect(r.status).toBe(0);
    });
  });
});

describe("chos run", () => {
  test("an unprivileged user lands in the tree through a user namespace mapping only themselves", () => {
    withSite((site) => {
      const cmd = chosCmd(
        site,
        "run",
        "tiny",
        "--",
        "sh",
        "-c",
        "cat /etc/os-release; id -u; cat /proc/self/uid_map; pwd",
      );
      const r = scenario(site, `cd /tmp && ${asUser("alice", cmd)}`);
      const uid = fs
        .readFileSync("/etc/passwd", "utf8")
        .split("\n")
        .find((l) => l.startsWith("alice:"))!
        .split(":")[2];
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(TINY);
      expect(r.stdout).toMatch(new RegExp(`^${uid}\\n\\s*${uid}\\s+${uid}\\s+1\\n/tmp\\n$`, "m"));
      expect(r.status).toBe(0);
    });
  });

  test("root lands in the tree without a user namespace", () => {
    withSite((site) => {
      const r = scenario(
        site,
        chosCmd(site, "run", "trixie", "--", "sh", "-c", "cat /etc/os-release; cat /proc/self/uid_map"),
      );
      expect(r.stdout).toContain(TRIXIE);
      expect(r.stdout).toMatch(/^\s*0\s+0\s+4294967295$/m);
      expect(r.status).toBe(0);
    });
  });

  test("an environment the policy does not grant is refused with the policy's reason", () => {
    withSite((site) => {
      const r = scenario(site, asUser("bob", chosCmd(site, "run", "trixie", "--", "true")));
      expect(r.stderr).toBe(
        "chos: 'trixie' refused: the policy chooses 'tiny' for you: the certified solver runs on tiny only (group:chemistry)\n",
      );
      expect(r.status).toBe(1);
    });
  });

  test("an unlisted environment is refused before the policy is asked", () => {
    withSite((site) => {
      const r = scenario(site, asUser("erin", chosCmd(site, "run", "nosuch", "--", "true")));
      expect(r.stderr).toBe(`chos: 'nosuch' is not in the catalogue ${site.catalogue}; see 'chos list'\n`);
      expect(r.status).toBe(1);
    });
  });

  test("a name that is not an environment name is refused", () => {
    withSite((site) => {
      for (const name of ["../etc", "a/b", ".", ""]) {
        const r = scenario(site, asUser("erin", chosCmd(site, "run", name, "--", "true")));
        expect(r.stderr).toBe(`chos: '${name}' is not an environment name ([A-Za-z0-9._-]+)\n`);
        expect(r.status).toBe(1);
      }
    });
  });

  test("a missing command is misuse (exit 2) and says how to call it", () => {
    withSite((site) => {
      const r = scenario(site, asUser("alice", chosCmd(site, "run", "tiny", "--")));
      expect(r.stderr).toBe("chos run: no command given; usage: chos run ENV -- CMD [ARG...]\n");
      expect(r.status).toBe(2);
    });
  });

  test("a command missing from the tree exits 127 and names the environment", () => {
    withSite((site) => {
      const r = scenario(site, asUser("alice", chosCmd(site, "run", "tiny", "--", "no-such-command")));
      expect(r.stderr).toBe("chos: cannot run no-such-command in tiny: No such file or directory\n");
      expect(r.status).toBe(127);
    });
  });
});

describe("the tree's %ENV list", () => {
  const envOf = (site: Site, vars: Record<string, string>) =>
    scenario(site, asUser("alice", chosCmd(site, "run", "tiny", "--", "env"), vars));

  test("only the listed variables and prefixes survive, and CHOS names the environment", () => {
    withSite((site) => {
      fs.writeFileSync(path.join(site.tiny, "etc/chos.conf"), "# site\n%ENV\n  PATH\nKEEP_*\t\n%OTHER\nDROP_ME\n");
      const r = envOf(site, { KEEP_A: "1", KEEP_B: "2", DROP_ME: "3", CHOS: "stale" });
      const names = r.stdout
        .trim()
        .split("\n")
        .map((l) => l.split("=")[0])
        .sort();
      expect(r.stderr).toBe("");
      expect(names).toEqual(["CHOS", "KEEP_A", "KEEP_B", "PATH"]);
      expect(r.stdout).toContain("CHOS=tiny\n");
      expect(r.status).toBe(0);
    });
  });

  test("a tree without %ENV keeps every variable", () => {
    withSite((site) => {
      const r = envOf(site, { DROP_ME: "3" });
      expect(r.stdout).toContain("DROP_ME=3\n");
      expect(r.status).toBe(0);
    });
  });

  test("a malformed line stops chos with the line number", () => {
    withSite((site) => {
      fs.writeFileSync(path.join(site.tiny, "etc/chos.conf"), "%ENV\nPATH\nFOO=bar\n");
      const r = envOf(site, {});
      expect(r.stderr).toBe("chos: /etc/chos.conf line 3: not a variable name (expected NAME or PREFIX*)\n");
      expect(r.status).toBe(1);
    });
  });

  test("a FIFO, a directory or an oversized file is refused without hanging", () => {
    withSite((site) => {
      const conf = path.join(site.tiny, "etc/chos.conf");
      const cases: [() => void, string][] = [
        [
          () => require("node:child_process").execFileSync("mkfifo", [conf]),
          "chos: /etc/chos.conf: not a regular file\n",
        ],
        [() => fs.mkdirSync(conf), "chos: /etc/chos.conf: not a regular file\n"],
        [
          () => fs.writeFileSync(conf, `%ENV\n${"A\n".repeat(40000)}`),
          "chos: /etc/chos.conf: larger than 65536 bytes\n",
        ],
      ];
      for (const [make, message] of cases) {
        fs.rmSync(conf, { recursive: true, force: true });
        make();
        const r = envOf(site, {});
        expect(r.stderr).toBe(message);
        expect(r.status).toBe(1);
      }
    });
  });
});

describe("bare chos", () => {
  test("starts the user's login shell in $CHOS's environment, in the home directory", () => {
    withSite((site) => {
      const cmd = [site.chos, "--catalogue", site.catalogue, "--policy", site.policy, "--root", site.root]
        .map(q)
        .join(" ");
      const r = scenario(
        site,
        asUser("alice", cmd, { CHOS: "tiny" }),
        'echo "$0 $CHOS $HOME $(pwd)"; cat /etc/os-release\n',
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain("-sh tiny /home/alice /home/alice\n");
      expect(r.stdout).toContain(TINY);
      expect(r.status).toBe(0);
    });
  });

  test("without $CHOS it says how to name an environment", () => {
    withSite((site) => {
      const r = scenario(site, asUser("alice", q(site.chos)));
      expect(r.stderr).toBe("chos: CHOS is not set: name an environment (chos shell ENV; see chos list)\n");
      expect(r.status).toBe(2);
    });
  });
});

describe("hosts that forbid unprivileged user namespaces", () => {
  const SYSCTL = "/proc/sys/user/max_user_namespaces";

  // The sysctl is toggled for real where this process may write it (CAP_SYS_RESOURCE); where
  // it may not (containers), a file reading 0 is bound over it inside the scenario's private
  // mount namespace, which is what chos reads. Either way it is restored in `finally`.
  test("an unprivileged switch says which setting forbids it, and nothing runs", () => {
    withSite((site) => {
      const before = fs.readFileSync(SYSCTL, "utf8");
      let writable = true;
      try {
        fs.writeFileSync(SYSCTL, "0\n");
      } catch {
        writable = false;
      }
      try {
        const zero = path.join(site.dir, "zero");
        fs.writeFileSync(zero, "0\n");
        const overlay = writable ? "" : `mount --bind ${q(zero)} ${SYSCTL}\n`;
        const r = scenario(site, overlay + asUser("alice", chosCmd(site, "run", "tiny", "--", "echo", "ran")));
        expect(r.stdout).toBe("");
        expect(r.stderr).toBe(
          "chos: this host does not allow unprivileged user namespaces (user.max_user_namespaces = 0): switching " +
            "without root is impossible here; ask an admin, or choose the environment at login (~/.chos)\n",
        );
        expect(r.status).toBe(1);
        // root needs no user namespace, so it still switches.
        const root = scenario(site, overlay + chosCmd(site, "run", "tiny", "--", "echo", "ran"));
        expect(root.stdout).toBe("ran\n");
      } finally {
        if (writable) fs.writeFileSync(SYSCTL, before);
      }
      expect(fs.readFileSync(SYSCTL, "utf8")).toBe(before);
    });
  });
});

// A PAM session is entered by root (pam_chos in sshd's privileged process) and then runs as the
// user: root's `chos run trixie` followed by setpriv reproduces that without sshd (the ssh path
// itself is the demo's and test/system's).
describe("switching inside a session's view", () => {
  test("an unprivileged user switches from trixie to tiny through a user namespace", () => {
    withSite((site) => {
      const inner = [
        ...userWords("alice"),
        "sh",
        "-c",
        `cat /etc/os-release; ${chosCmd(site, "run", "tiny", "--", "cat", "/etc/os-release")}`,
      ];
      const r = scenario(site, chosCmd(site, "run", "trixie", "--", ...inner));
      expect(r.stderr).toBe("");
      expect(r.stdout.indexOf(TRIXIE)).toBeGreaterThanOrEqual(0);
      expect(r.stdout.indexOf(TINY)).toBeGreaterThan(r.stdout.indexOf(TRIXIE));
      expect(r.status).toBe(0);
    });
  });

  test("root switches with a mount namespace alone", () => {
    withSite((site) => {
      const r = scenario(
        site,
        chosCmd(site, "run", "trixie", "--", ...chosCmdWords(site, "run", "tiny", "--", "cat", "/etc/os-release")),
      );
      expect(r.stderr).toBe("");
      expect(r.stdout).toContain(TINY);
      expect(r.status).toBe(0);
    });
  });

  test("a tree not visible inside the view is refused with what the admin can do", () => {
    withSite((site) => {
      // trixie lives under /var/cache, which inside the view is the tree's own /var.
      const inner = [...userWords("alice"), ...chosCmdWords(site, "run", "trixie", "--", "true")];
      const r = scenario(site, chosCmd(site, "run", "trixie", "--", ...inner));
      expect(r.stderr).toBe(
        `chos: the tree ${site.trixie} is not visible inside this session: an admin can make it so by keeping ` +
          "the trees under a directory bound into the root (BINDMOUNT in /etc/sysconfig/chos)\n",
      );
      expect(r.status).toBe(1);
    });
  });
});

/** chosCmd as separate words (for nesting inside `chos run ... --`). */
function chosCmdWords(site: Site, sub: string, ...args: string[]): string[] {
  return [site.chos, sub, "--catalogue", site.catalogue, "--policy", site.policy, "--root", site.root, ...args];
}
