// The Debian packages as an admin installs them: `npm run package` (lintian included) here, then
// on a fresh Debian 12 in QEMU (CHOS_VM_IMAGE=clean: test/vm/build-clean-image, dependencies
// from the local repository of Debian's packages that test/vm/build-clean-repo makes) apt
// install, pam-auth-update, the example policy, chos setup with the DKMS module, ssh logins,
// and apt purge, diffed. Debian 12's kernel only: the clean image carries its headers.
// Sequence: test/vm/suites/packages.sh.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { expectCheck, repoRoot, runVm, type VmResult } from "./lib/vm";

const debDir = path.join(repoRoot, "dist", "deb");
// A cold run installs for about ten minutes under TCG; the jest timeout stays above it.
const VM_TIMEOUT_S = 1500;

/** dist/deb is reused when its four .deb files are newer than every file scripts/package copies
 * (git's tracked and untracked files) and every directory holding one (a deletion or a rename
 * changes the directory's time); otherwise `npm run package` builds them again. */
function packagesFresh(): boolean {
  const debs = fs.existsSync(debDir) ? fs.readdirSync(debDir).filter((f) => f.endsWith(".deb")) : [];
  if (debs.length !== 4) return false;
  const built = Math.min(...debs.map((f) => fs.statSync(path.join(debDir, f)).mtimeMs));
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  if (listed.status !== 0) return false;
  const inputs = new Set<string>(["."]);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    for (let p = file; p !== "."; p = path.dirname(p)) inputs.add(p);
  }
  return [...inputs].every((p) => {
    const stat = fs.lstatSync(path.join(repoRoot, p), { throwIfNoEntry: false });
    return stat !== undefined && stat.mtimeMs < built;
  });
}

describe("bookworm: the Debian packages on a fresh Debian 12", () => {
  let run: VmResult | undefined;
  beforeAll(
    async () => {
      if (!packagesFresh()) {
        const pkg = spawnSync("npm", ["run", "package"], { cwd: repoRoot, encoding: "utf8" });
        if (pkg.status !== 0) throw new Error(`npm run package failed:\n${pkg.stdout}\n${pkg.stderr}`);
      }
      run = await runVm("test/vm/suites/packages.sh", [], VM_TIMEOUT_S, "bookworm", "clean");
    },
    (VM_TIMEOUT_S + 600) * 1000,
  );
  const result = (): VmResult => {
    if (!run) throw new Error("the VM run did not happen");
    return run;
  };
  const check = (name: string) => (): void => expectCheck(result(), name);

  test("the suite ran to the end inside the VM with no kernel warnings", () => {
    expect(result().output).toContain("dmesg problems: 0\n");
    expect(result().status).toBe(0);
  });
  test(
    "apt installs the four packages from the files and their dependencies from Debian, no recommends",
    check("apt-install-from-debian"),
  );
  test("pam_chos is in no PAM file until the admin enables it", check("pam-chos-off-until-enabled"));
  test(
    "pam-auth-update --enable chos puts pam_chos last in common-session, not in the non-interactive one",
    check("pam-auth-update-puts-pam-chos-last"),
  );
  test(
    "dkms status shows chos installed for the running kernel, where modprobe finds it",
    check("dkms-built-for-running-kernel"),
  );
  test(
    "a kernel installed afterwards gets the module too: installing its headers runs dkms's hook",
    check("dkms-builds-for-new-kernel"),
  );
  test(
    "Debian's nodejs runs chos-policy build and test on the packaged example site",
    check("chos-policy-builds-and-tests-example"),
  );
  test("chos setup --backend kmod loads the DKMS module and --check passes", check("chos-setup-loads-dkms-module"));
  test(
    "ssh over loopback through Debian's sshd PAM stack: alice lands in trixie, bob in tiny",
    check("ssh-lands-in-policy-tree"),
  );
  test(
    "apt purge --autoremove of the four packages leaves only what Debian's apt keeps for suggestions, and those go without",
    check("apt-purge-autoremove"),
  );
  test(
    "after the purge the installed packages, /etc and the PAM stack are as before the install",
    check("purge-leaves-system-as-before"),
  );
});
