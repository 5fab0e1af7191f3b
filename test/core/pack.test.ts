// The pack (pam/core/policy/policy_pack.h) as a login reads it: each structure it reads is
// checked by its own SHA-256 before it is used, a damaged or stale part is one log line and the
// source with the same decision, and a part the login does not need is not read at all.
import * as fs from "node:fs";
import * as path from "node:path";
import { bundlePolicy } from "../../policy/bundle/bundle";
import type { Decision, LoginContextInput } from "../../policy/native";
import { native, withDirAsync, writeFile } from "./lib";
import { HEADER_SIZE, readPack, TOP_SIZE, UNIT_SIZE } from "./pack";

const EXAMPLE = path.resolve(__dirname, "../../policy/examples/site");
// dave: admins (no opinion without a request), then physics, which decides.
const DAVE: LoginContextInput = {
  user: { name: "dave", uid: 2004, gid: 2004, home: "/home/dave", shell: "/bin/sh", groups: ["admins", "physics"] },
  host: { name: "n01" },
  service: "sshd",
  remoteHost: null,
  tty: null,
  requested: null,
};

/** What must not depend on where the code came from (absent fields dropped). */
function outcome(d: Decision): object {
  const { env, deny, reason, decidedBy, file, line, column, error, units } = d;
  return JSON.parse(JSON.stringify({ env, deny, reason, decidedBy, file, line, column, error, units })) as object;
}

/** Builds the example site into dir; its bundle, catalogue and fresh pack. */
async function example(dir: string): Promise<{ bundle: string; catalogue: string; qbc: Buffer }> {
  const { bundle } = await bundlePolicy(EXAMPLE, path.join(dir, "policy.js"));
  native.compile(bundle);
  const catalogue = writeFile(
    path.join(dir, "chos.conf"),
    "%SHELLS\ntrixie:/srv/trixie\ntiny:/srv/tiny\ndefault:/srv/trixie\n",
  );
  return { bundle, catalogue, qbc: fs.readFileSync(`${bundle}.qbc`) };
}

function flipped(qbc: Buffer, at: number): Buffer {
  const copy = Buffer.from(qbc);
  copy[at] ^= 0x20;
  return copy;
}

describe("the pack", () => {
  test("binds each unit's source region and bytecode, in sorted index blocks", () =>
    withDirAsync(async (dir) => {
      const { bundle, qbc } = await example(dir);
      const source = fs.readFileSync(bundle);
      const pack = readPack(qbc);
      expect(pack).toMatchObject({
        magic: "CHOSPAK1",
        bundleSize: source.length,
        packSize: qbc.length,
        groups: 4,
        blocks: 1,
      });
      expect(pack.units.map((u) => u.group)).toEqual(["admins", "chemistry", "legacy", "physics"]);
      expect(pack.top).toEqual([
        {
          first: "admins",
          blockSha256: native.sha256(qbc.subarray(HEADER_SIZE + TOP_SIZE, HEADER_SIZE + TOP_SIZE + 4 * UNIT_SIZE)),
        },
      ]);
      const units = [pack.base, ...pack.units];
      let line = 0;
      let offset = 0;
      for (const u of units) {
        const text = source.subarray(u.sourceOffset, u.sourceOffset + u.sourceLength);
        // Units tile the bundle, each on a line boundary, each group's starting with its marker.
        expect({ group: u.group, offset: u.sourceOffset, line: u.line }).toEqual({ group: u.group, offset, line });
        if (u.group) expect(text.toString().startsWith(`// chos:unit ${u.group}\n`)).toBe(true);
        expect(u.sourceSha256).toBe(native.sha256(text));
        expect(u.bytecodeSha256).toBe(
          native.sha256(qbc.subarray(u.bytecodeOffset, u.bytecodeOffset + u.bytecodeLength)),
        );
        offset += u.sourceLength;
        line += text.toString().split("\n").length - 1;
      }
      expect(offset).toBe(source.length);
    }));

  test("every damaged or stale part a login reads: one line, the source, the same decision", () =>
    withDirAsync(async (dir) => {
      const { bundle, catalogue, qbc } = await example(dir);
      const pack = readPack(qbc);
      const unit = (g: string) => [pack.base, ...pack.units].find((u) => u.group === g)!;
      const options = { bundle, catalogue, context: DAVE, trustAnyOwner: true };
      const expected = outcome(native.decide({ ...options, preferSource: true }));
      expect(expected).toMatchObject({ env: "trixie", decidedBy: "group:physics", units: 3 });
      expect(native.decide(options)).toMatchObject({ ...expected, fromBytecode: true, logs: [] });
      const line = (why: string) => `${bundle}.qbc: ${why}; using the source: run \`chos-policy build\``;
      const stale = line("stale or foreign (not built from this bundle by QuickJS 2025-04-26)");
      const physicsEntry = unit("physics").at;
      const cases: [string, Buffer, string][] = [
        ["its magic", flipped(qbc, 0), stale],
        ["its QuickJS version", flipped(qbc, 9), stale],
        ["its build id", flipped(qbc, 50), line("corrupt (its header does not match its SHA-256)")],
        ["its group count", flipped(qbc, 72), line("corrupt (its header does not match its SHA-256)")],
        ["its top table", flipped(qbc, HEADER_SIZE + 1), line("corrupt (its top table does not match its SHA-256)")],
        [
          "physics's index entry",
          flipped(qbc, physicsEntry + 100),
          line("corrupt (an index block does not match its SHA-256)"),
        ],
        [
          "the base unit's bytecode",
          flipped(qbc, pack.base.bytecodeOffset + 20),
          line("corrupt (a unit's bytecode does not match its SHA-256)"),
        ],
        [
          "physics's bytecode",
          flipped(qbc, unit("physics").bytecodeOffset + 20),
          line("corrupt (a unit's bytecode does not match its SHA-256)"),
        ],
        ["truncated", qbc.subarray(0, qbc.length - 1), stale],
        ["truncated inside the header", qbc.subarray(0, 100), stale],
        ["extended", Buffer.concat([qbc, Buffer.from("x")]), stale],
        ["the old single-blob format", Buffer.from(`CHOSQBC3${"\0".repeat(400)}`), stale],
      ];
      for (const [what, bytes, log] of cases) {
        writeFile(`${bundle}.qbc`, bytes);
        const d = native.decide(options);
        expect([what, { ...outcome(d), fromBytecode: d.fromBytecode, logs: d.logs }]).toEqual([
          what,
          { ...expected, fromBytecode: false, logs: [log] },
        ]);
      }
    }));

  test("a part this login does not read (another group's bytecode or source) is not even looked at", () =>
    withDirAsync(async (dir) => {
      const { bundle, catalogue, qbc } = await example(dir);
      const pack = readPack(qbc);
      const chemistry = pack.units.find((u) => u.group === "chemistry")!;
      const options = { bundle, catalogue, context: DAVE, trustAnyOwner: true };
      const expected = outcome(native.decide(options));
      writeFile(`${bundle}.qbc`, flipped(qbc, chemistry.bytecodeOffset + 20));
      expect(native.decide(options)).toMatchObject({ ...expected, fromBytecode: true, logs: [] });
      // chemistry's members do see it.
      const bob = { ...DAVE, user: { ...DAVE.user, name: "bob", groups: ["chemistry"] } };
      expect(native.decide({ ...options, context: bob })).toMatchObject({
        env: "tiny",
        fromBytecode: false,
        logs: [expect.stringContaining("corrupt (a unit's bytecode")],
      });
      // Nor is another group's source region: the same size, chemistry's text edited.
      fs.writeFileSync(`${bundle}.qbc`, qbc);
      const text = fs.readFileSync(bundle, "utf8");
      const edited = text.replace("the certified solver runs on tiny only", "THE certified solver runs on tiny only");
      expect(edited).not.toBe(text);
      writeFile(bundle, edited);
      expect(native.decide(options)).toMatchObject({ ...expected, fromBytecode: true, logs: [] });
      expect(native.decide({ ...options, context: bob })).toMatchObject({
        reason: "THE certified solver runs on tiny only",
        logs: [expect.stringContaining("stale or foreign")],
      });
    }));

  test("the bundle is the authority: an edited unit's region makes the pack stale, and the edit is what runs", () =>
    withDirAsync(async (dir) => {
      const { bundle, catalogue } = await example(dir);
      const options = { bundle, catalogue, context: DAVE, trustAnyOwner: true };
      const text = fs.readFileSync(bundle, "utf8");
      // The same size, so only the region's SHA-256 can tell.
      const edited = text.replace("physics codes are built for trixie", "physics codes are built for TRIXIE");
      expect(edited).not.toBe(text);
      writeFile(bundle, edited);
      const d = native.decide(options);
      expect(d).toMatchObject({
        env: "trixie",
        reason: "physics codes are built for TRIXIE",
        fromBytecode: false,
        logs: [
          `${bundle}.qbc: stale or foreign (not built from this bundle by QuickJS 2025-04-26); using the source: run \`chos-policy build\``,
        ],
      });
      expect(outcome(d)).toEqual(outcome(native.decide({ ...options, preferSource: true })));
    }));

  test("a pack built for another bundle of the same size is stale", () =>
    withDirAsync(async (dir) => {
      const { bundle, catalogue } = await example(dir);
      const other = path.join(dir, "other.js");
      writeFile(other, fs.readFileSync(bundle, "utf8").replace("physics codes", "PHYSICS codes"));
      native.compile(other);
      fs.copyFileSync(`${other}.qbc`, `${bundle}.qbc`);
      const d = native.decide({ bundle, catalogue, context: DAVE, trustAnyOwner: true });
      expect(d).toMatchObject({
        reason: "physics codes are built for trixie",
        fromBytecode: false,
        logs: [expect.stringContaining("stale or foreign")],
      });
    }));
});
