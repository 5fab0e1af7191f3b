// ssh logins with the kmod backend inside each of VM_KERNELS under QEMU: sshd on the VM's
// loopback with pam_chos backend=kmod, the example policy (policy/examples/site) built here
// with the real CLI, `chos setup` laying out /chos, then the tiny tree as an OS image, squashfs
// and then erofs (built here by `chos image build`). Sequence: test/vm/suites/ssh.sh.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildImage } from "../system/lib/site";
import { prepareTrees } from "../system/lib/trees";
import { describeEachKernel, expectCheck as expectVmCheck, runVmWithExamplePolicy } from "./lib/vm";

/** The OS images of the busybox test tree (static: it runs in the VM), one of each kind, made
 * once for every kernel: /mnt/chos/chos-vm-image/tiny.sqfs and tiny.erofs in the VM. */
let imageDir: string | undefined;
function tinyImage(): string {
  if (!imageDir) {
    imageDir = fs.mkdtempSync(path.join(os.tmpdir(), "chos-vm-image-"));
    const tiny = prepareTrees(path.join(imageDir, "trees")).tiny;
    const out = path.join(imageDir, "chos-vm-image");
    fs.mkdirSync(out);
    for (const image of ["tiny.sqfs", "tiny.erofs"]) buildImage(tiny, path.join(out, image));
  }
  return path.join(imageDir, "chos-vm-image");
}
afterAll(() => imageDir && fs.rmSync(imageDir, { recursive: true, force: true }));

describeEachKernel(
  "ssh with the kmod backend",
  (kernel) => runVmWithExamplePolicy("test/vm/suites/ssh.sh", kernel, [tinyImage()]),
  (result) => {
    const expectCheck = (name: string): void => expectVmCheck(result(), name);

    test("the ssh suite ran to the end inside the VM with no kernel warnings", () => {
      expect(result().output).toContain("dmesg problems: 0\n");
      expect(result().status).toBe(0);
    });
    test("chos setup loads the module, mounts chosfs, lays out /chos, and --check passes", () =>
      expectCheck("setup-loads-module-check-passes"));
    test("ssh users land in the tree their policy picks (alice trixie, bob tiny) with backend=kmod", () =>
      expectCheck("ssh-lands-in-policy-tree"));
    test("two ssh sessions at once each stay in their own tree", () => expectCheck("ssh-concurrent-sessions"));
    test("chos switches trees mid-session and /etc/os-release follows; the session shell stays", () =>
      expectCheck("ssh-chos-switches-mid-session"));
    test("a switch the policy refuses mid-session fails and leaves the session in its tree", () =>
      expectCheck("ssh-switch-refused-by-policy"));
    test("an image entry: setup mounts it, binds it inside the root and lists it; bob's ssh login lands in it", () =>
      expectCheck("ssh-lands-in-image"));
    test("the image replaced while a session runs: the session keeps the old generation, new logins get the new, the old goes after", () =>
      expectCheck("ssh-replaced-image-kept-for-running-session"));
    test("an erofs image in its place: setup mounts it, and bob's ssh login lands in it", () =>
      expectCheck("ssh-lands-in-erofs-image"));
    test("an image no longer listed stays mounted while a kmod session uses it, and is detached after", () =>
      expectCheck("unlisted-image-kept-while-used"));
    test("chos setup --check says the module is not loaded after rmmod", () =>
      expectCheck("setup-check-says-module-unloaded"));
  },
);
