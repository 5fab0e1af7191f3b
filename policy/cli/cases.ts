// The cases file of `chos-policy test`: JSON, validated strictly (unknown keys rejected by name).
//
// {
//   "catalogue": "chos.conf",                       // relative to the cases file
//   "defaults": { "host": "n01", "service": "sshd", "remoteHost": null, "tty": null },
//   "users": { "alice": { "uid": 2001, "gid": 2001, "groups": ["physics"], "home"?, "shell"? } },
//   "cases": [
//     { "name": "physics gets trixie", "user": "alice", "host"?, "service"?, "remoteHost"?, "tty"?,
//       "requested"?: "tiny" | { "env": "tiny", "from": "env" | "file" | "option" },
//       "job"?: { "id"?: 1, "step"?: "0", "partition"?: "gpu", "account"?, "node"?, "submitHost"? },
//       "expect": { "env"?: "trixie" | null, "deny"?: "why", "decidedBy"?: "group:physics",
//                   "fault"?: "throw" } }
//   ]
// }
// A case's user is a name from "users" (home defaults to /home/NAME, shell to /bin/sh); an
// expectation names at least one of env, deny, fault; decidedBy is checked when given. A case
// with a job is a Slurm step: its service defaults to "slurm", the job's id to 1, its step to
// "0", its node to the case's host, and the rest to null.
import fs from "node:fs";
import path from "node:path";
import { FAULT_NAMES, type FaultName, type LoginRequest, type RequestSource, type SlurmJob } from "../sdk/contract";
import type { ContextInput } from "./context";

/** What a case expects; only the fields given are checked. */
export interface Expectation {
  readonly env?: string | null;
  readonly deny?: string;
  readonly decidedBy?: string;
  readonly fault?: FaultName;
}

export interface Case {
  readonly name: string;
  readonly context: ContextInput;
  readonly expect: Expectation;
}

export interface CasesFile {
  /** Absolute path of the catalogue the cases run against. */
  readonly catalogue: string;
  readonly cases: readonly Case[];
}

type Json = Record<string, unknown>;

class CasesError extends Error {}

function object(value: unknown, where: string, keys: readonly string[]): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CasesError(`${where}: expected an object`);
  }
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new CasesError(`${where}: unknown key "${key}" (allowed: ${keys.join(", ")})`);
  }
  return value as Json;
}

function string(value: unknown, where: string): string {
  if (typeof value !== "string") throw new CasesError(`${where}: expected a string`);
  return value;
}

function nullableString(value: unknown, where: string): string | null {
  return value === null ? null : string(value, where);
}

function integer(value: unknown, where: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw new CasesError(`${where}: expected an integer >= 0`);
  return value as number;
}

function strings(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw new CasesError(`${where}: expected an array of strings`);
  return value.map((v, i) => string(v, `${where}[${i}]`));
}

function request(value: unknown, where: string): LoginRequest | null {
  if (value === null) return null;
  if (typeof value === "string") return { env: value, from: "env" };
  const r = object(value, where, ["env", "from"]);
  const from = string(r.from, `${where}.from`);
  if (!REQUEST_SOURCES.includes(from as RequestSource)) {
    throw new CasesError(`${where}.from: expected "env", "file" or "option"`);
  }
  return { env: string(r.env, `${where}.env`), from: from as RequestSource };
}

const REQUEST_SOURCES: readonly RequestSource[] = ["env", "file", "option"];

function job(value: unknown, where: string, host: string): SlurmJob {
  const j = object(value, where, ["id", "step", "partition", "account", "node", "submitHost"]);
  return {
    id: j.id === undefined ? 1 : integer(j.id, `${where}.id`),
    step: j.step === undefined ? "0" : string(j.step, `${where}.step`),
    partition: nullableString(j.partition ?? null, `${where}.partition`),
    account: nullableString(j.account ?? null, `${where}.account`),
    node: j.node === undefined ? host : string(j.node, `${where}.node`),
    submitHost: nullableString(j.submitHost ?? null, `${where}.submitHost`),
  };
}

function expectation(value: unknown, where: string): Expectation {
  const e = object(value, where, ["env", "deny", "decidedBy", "fault"]);
  if (!("env" in e) && !("deny" in e) && !("fault" in e)) throw new CasesError(`${where}: name env, deny or fault`);
  if (e.fault !== undefined && !FAULT_NAMES.includes(e.fault as FaultName)) {
    throw new CasesError(`${where}.fault: expected one of ${FAULT_NAMES.join(", ")}`);
  }
  return {
    ...("env" in e ? { env: nullableString(e.env, `${where}.env`) } : {}),
    ...("deny" in e ? { deny: string(e.deny, `${where}.deny`) } : {}),
    ...("decidedBy" in e ? { decidedBy: string(e.decidedBy, `${where}.decidedBy`) } : {}),
    ...("fault" in e ? { fault: e.fault as FaultName } : {}),
  };
}

const CONTEXT_KEYS = ["host", "service", "remoteHost", "tty"] as const;

/** Parses cases text; `file` is used in messages and to resolve the catalogue. */
export function parseCases(text: string, file: string): CasesFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON: ${(e as Error).message}`);
  }
  try {
    const top = object(json, "top level", ["catalogue", "defaults", "users", "cases"]);
    const defaults = object(top.defaults ?? {}, "defaults", CONTEXT_KEYS);
    const users = object(top.users ?? {}, "users", Object.keys(top.users ?? {}));
    if (!Array.isArray(top.cases) || top.cases.length === 0) throw new CasesError(`cases: expected a non-empty array`);
    const cases = top.cases.map((raw, i): Case => {
      const where = `cases[${i}]`;
      const c = object(raw, where, ["name", "user", ...CONTEXT_KEYS, "requested", "job", "expect"]);
      const name = string(c.name, `${where}.name`);
      const userName = string(c.user, `${where}.user`);
      if (!(userName in users)) throw new CasesError(`${where}.user: "${userName}" is not in "users"`);
      const u = object(users[userName], `users.${userName}`, ["uid", "gid", "groups", "home", "shell"]);
      const pick = (key: (typeof CONTEXT_KEYS)[number]): unknown => (key in c ? c[key] : defaults[key]);
      const host = string(pick("host") ?? "localhost", `${where}.host`);
      const service = c.job === undefined ? "sshd" : "slurm";
      return {
        name,
        context: {
          user: {
            name: userName,
            uid: integer(u.uid, `users.${userName}.uid`),
            gid: integer(u.gid, `users.${userName}.gid`),
            home: u.home === undefined ? `/home/${userName}` : string(u.home, `users.${userName}.home`),
            shell: u.shell === undefined ? "/bin/sh" : string(u.shell, `users.${userName}.shell`),
            groups: strings(u.groups, `users.${userName}.groups`),
          },
          host: { name: host },
          service: string((c.job === undefined ? pick("service") : c.service) ?? service, `${where}.service`),
          remoteHost: nullableString(pick("remoteHost") ?? null, `${where}.remoteHost`),
          tty: nullableString(pick("tty") ?? null, `${where}.tty`),
          requested: request(c.requested ?? null, `${where}.requested`),
          ...(c.job === undefined ? {} : { job: job(c.job, `${where}.job`, host) }),
        },
        expect: expectation(c.expect, `${where}.expect`),
      };
    });
    const catalogue = path.resolve(path.dirname(file), string(top.catalogue, "catalogue"));
    return { catalogue, cases };
  } catch (e) {
    if (e instanceof CasesError) throw new Error(`${file}: ${e.message}`);
    throw e;
  }
}

export function loadCases(file: string): CasesFile {
  return parseCases(fs.readFileSync(file, "utf8"), file);
}
