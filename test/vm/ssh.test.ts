// ssh logins with the kmod backend inside each of VM_KERNELS under QEMU: sshd on the VM's
// loopback with pam_chos backend=kmod, the example policy (policy/examples/site) built here
// with the real CLI, `chos setup` laying out /chos. Sequence: test/vm/suites/ssh.sh.
import { describeEachKernel, expectCheck as expectVmCheck, runVmWithExamplePolicy } from "./lib/vm";

describeEachKernel(
  "ssh with the kmod backend",
  (kernel) => runVmWithExamplePolicy("test/vm/suites/ssh.sh", kernel),
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
    test("chos setup --check says the module is not loaded after rmmod", () =>
      expectCheck("setup-check-says-module-unloaded"));
  },
);
