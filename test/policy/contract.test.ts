// Type-level tests of the policy contract: ts-jest compiles this file with full diagnostics, so
// every @ts-expect-error below must really be an error, and the assignments without it must
// type-check. The runtime assertions only keep the values used.
import type { Decision, LayerName, LoginContext, PolicyFunction } from "../../policy/sdk";
import { FAULT_NAMES, type FaultName } from "../../policy/sdk/contract";

const ctx: LoginContext = {
  user: { name: "alice", uid: 1, gid: 1, home: "/home/alice", shell: "/bin/sh", groups: ["physics"] },
  host: { name: "n01" },
  service: "sshd",
  remoteHost: null,
  tty: null,
  requested: { env: "tiny", from: "file" },
  environments: ["trixie", "tiny"],
};

describe("the policy contract", () => {
  test("accepts the four decision forms", () => {
    const forms: Decision[] = [{ env: "trixie" }, { env: "trixie", reason: "why" }, { deny: "no" }, null, undefined];
    expect(forms).toHaveLength(5);
  });

  test("rejects decisions that are not a Decision", () => {
    // @ts-expect-error a decision names env or deny
    const noName: Decision = { reason: "why" };
    // @ts-expect-error env is a string
    const numberEnv: Decision = { env: 1 };
    // @ts-expect-error a decision cannot both use and deny
    const both: Decision = { env: "trixie", deny: "no" };
    // @ts-expect-error a denial has no separate reason
    const denyReason: Decision = { deny: "no", reason: "why" };
    // @ts-expect-error unknown keys are not part of a decision
    const extra: Decision = { env: "trixie", priority: 1 };
    // @ts-expect-error a bare string is not a decision
    const bare: Decision = "trixie";
    expect([noName, numberEnv, both, denyReason, extra, bare]).toHaveLength(6);
  });

  test("makes the context read-only", () => {
    // @ts-expect-error the user's groups cannot be changed by a policy
    ctx.user.groups.push("admins");
    // @ts-expect-error nor can the host
    ctx.host.name = "n02";
    // @ts-expect-error request sources are "env" or "file"
    const from: NonNullable<LoginContext["requested"]>["from"] = "argv";
    expect(from).toBe("argv");
  });

  test("types policy functions and names", () => {
    const policy: PolicyFunction = (c) => (c.user.groups.includes("physics") ? { env: "trixie" } : null);
    // @ts-expect-error a policy returns a Decision, not a Promise of one
    const asyncPolicy: PolicyFunction = async () => ({ env: "trixie" });
    const layers: LayerName[] = ["site", "group:physics", "request", "default", "host"];
    // @ts-expect-error layer names are fixed
    const badLayer: LayerName = "groups";
    // @ts-expect-error fault names are fixed
    const badFault: FaultName = "crash";
    expect([policy, asyncPolicy, layers, badLayer, badFault]).toHaveLength(5);
    expect(FAULT_NAMES).toEqual(["load", "throw", "timeout", "memory", "stack", "shape", "unlisted"]);
  });
});
