// The SDK helpers on their own (in Node): matching, request checks, and the call-site stamp.
import {
  deny,
  honourRequest,
  hostMatches,
  hostPattern,
  inGroup,
  type LoginContext,
  listed,
  requestedEnv,
  use,
} from "../../policy/sdk";

function ctx(over: Partial<LoginContext> = {}): LoginContext {
  return {
    user: { name: "alice", uid: 2001, gid: 2001, home: "/home/alice", shell: "/bin/sh", groups: ["physics", "users"] },
    host: { name: "n12" },
    service: "sshd",
    remoteHost: null,
    tty: null,
    requested: null,
    environments: ["trixie", "tiny", "default"],
    ...over,
  };
}

describe("SDK helpers", () => {
  test("inGroup is true for any listed group the user is in", () => {
    expect(inGroup(ctx(), "chemistry", "users")).toBe(true);
    expect(inGroup(ctx(), "chemistry")).toBe(false);
  });

  test("host patterns are anchored shell globs with classes and negation", () => {
    expect(hostMatches(ctx(), "n[0-9][0-9]")).toBe(true);
    expect(hostMatches(ctx(), "n1")).toBe(false);
    expect(hostMatches(ctx(), "n*")).toBe(true);
    expect(hostMatches(ctx(), "?12")).toBe(true);
    expect(hostMatches(ctx(), "[!n]*")).toBe(false);
    expect(hostMatches(ctx({ host: { name: "gpu.x" } }), "gpu.x")).toBe(true);
    expect(hostMatches(ctx({ host: { name: "gpuax" } }), "gpu.x")).toBe(false);
    expect(hostMatches(ctx(), /^n1/)).toBe(true);
    expect(() => hostPattern("n[0-9")).toThrow('host pattern "n[0-9": "[" without a closing "]"');
  });

  test("requests count only when listed, and only among the allowed names", () => {
    const asked = ctx({ requested: { env: "tiny", from: "file" } });
    expect(listed(asked, "tiny")).toBe(true);
    expect(requestedEnv(asked)).toBe("tiny");
    expect(requestedEnv(asked, ["trixie"])).toBeNull();
    expect(requestedEnv(ctx({ requested: { env: "sles9", from: "env" } }))).toBeNull();
    expect(honourRequest(asked)).toEqual({ env: "tiny", reason: "requested in ~/.chos" });
    expect(honourRequest(ctx())).toBeNull();
  });

  test("use and deny make frozen decisions stamped with their caller's position", () => {
    const made = use("trixie", "why");
    // The line of the use() call, two above the line this Error is made on.
    const line = Number(new Error().stack!.split("\n")[1].split(":").at(-2)) - 2;
    expect(made).toEqual({ env: "trixie", reason: "why" });
    expect(Object.keys(made)).toEqual(["env", "reason"]);
    expect(Object.isFrozen(made)).toBe(true);
    const at = (made as unknown as { __at: string }).__at;
    expect(at).toMatch(/^\d+:\d+$/);
    expect(Number(at.split(":")[0])).toBe(line);
    expect(deny("no")).toEqual({ deny: "no" });
  });
});
