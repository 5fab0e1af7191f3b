// The kernel module in real kernels: each of VM_KERNELS booted in QEMU (TCG), one boot per
// kernel for all its behaviours, chos.ko built with that kernel's headers. The in-VM programs
// live in test/vm/progs (one per behaviour, each with a header comment), the sequence in
// test/vm/suites/kmod.sh.
import { describeEachKernel, expectCheck as expectVmCheck, runVm } from "./lib/vm";

describeEachKernel(
  "the kmod suite",
  (kernel) => runVm("test/vm/suites/kmod.sh", [], 500, kernel),
  (result) => {
    const expectCheck = (name: string): void => expectVmCheck(result(), name);

    test("the suite ran to the end inside the VM", () => {
      expect(result().status).toBe(0);
    });

    test("/proc/chos has the seven files with their modes, version and zeroed stats", () => expectCheck("interface"));
    test("a shell switches its own link with echo and resolves files through it", () => expectCheck("shell-switch"));
    test("child, orphaned grandchild, vfork+exec, threads and io_uring workers inherit the link", () =>
      expectCheck("inherit"));
    test("two processes resolve the link to different trees at the same time", () => expectCheck("concurrent"));
    test("setchos in a child leaves the parent alone; in a thread it moves the process", () =>
      expectCheck("isolation"));
    test("valid lists trusted directories by their canonical path; -PATH withdraws one", () => expectCheck("valid"));
    test("a link object made where a withdrawn one was freed is listed, not withdrawn", () =>
      expectCheck("reused-link-object"));
    test("held counts each link object's processes, listed or not; withdrawn ones are not shown; root only", () =>
      expectCheck("held"));
    test("unlisted setchos is ENOENT, non-root valid is EPERM, malformed and oversized writes are EINVAL with no effect", () =>
      expectCheck("errors"));
    test("a reused pid never inherits a stale link", () => expectCheck("pid-reuse"));
    test("a walker reading, readlinking and writing every file as root and nobody gets only defined errors", () =>
      expectCheck("walker"));
    test("a fork storm of 20,000 with a link set leaves 0 live entries and no allocation failures", () =>
      expectCheck("storm"));
    test("2,000 children forked without waiting each get an entry: the pool's refill keeps up", () =>
      expectCheck("burst"));
    test("no kernel warnings in dmesg after all of the above", () => expectCheck("dmesg-clean"));
    test("rmmod is refused while chosfs is mounted and clean after umount", () =>
      expectCheck("rmmod-refused-while-mounted-clean-after"));
    test("rmmod right after a storm, with a task still holding a link, frees everything", () =>
      expectCheck("rmmod-right-after-storm"));
    test("the module loads again with zeroed stats after an unload", () => expectCheck("reload"));
    test("pool_size over 256 is refused; a fork with no entry ready leaves the child without a link: counted, logged, ELOOP in a layout root", () =>
      expectCheck("unlinked-child"));
  },
);
