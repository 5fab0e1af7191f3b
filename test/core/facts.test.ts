// Login facts from the system (pam/core/facts/context.c): NSS user facts, primary group first, and
// the short host name.
import * as fs from "node:fs";
import * as os from "node:os";
import { acquireTestUsers } from "../system/lib/users";
import { native } from "./lib";

describe("facts", () => {
  test("userFacts reads NSS: root's uid, gid, home, shell, primary group first", () => {
    const passwd = fs
      .readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("root:"))!
      .split(":");
    const facts = native.userFacts("root");
    expect(facts).toEqual({
      name: "root",
      uid: 0,
      gid: 0,
      home: passwd[5],
      shell: passwd[6],
      groups: expect.any(Array),
    });
    expect(facts.groups[0]).toBe("root");
    expect(new Set(facts.groups).size).toBe(facts.groups.length);
  });

  test("a user's supplementary groups follow the primary group", () => {
    // dave: primary group admins, supplementary physics (the shared test users; needs root).
    const release = acquireTestUsers();
    try {
      const dave = native.userFacts("dave");
      expect(dave).toMatchObject({ name: "dave", home: "/home/dave", shell: "/bin/sh" });
      expect(dave.groups).toEqual(["admins", "physics"]);
    } finally {
      release();
    }
  });

  test("an unknown user is an error naming the user", () => {
    expect(() => native.userFacts("no-such-user-chos")).toThrow('user "no-such-user-chos" not found');
  });

  test("hostName is the short host name", () => {
    expect(native.hostName()).toBe(os.hostname().split(".")[0]);
  });
});
