// Static facts about a policy directory, read with the TypeScript compiler API: the decision
// sites (calls of the SDK's use, deny and honourRequest, which stamp where they were made) and
// the environment names written as string literals (for `check`).
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import type { PolicyDir } from "../bundle/policy-dir";

/** A call that makes a decision, at its .ts position. */
export interface DecisionSite {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** "use(...)", "deny(...)" or "honourRequest(...)". */
  readonly call: string;
}

/** An environment name written as a literal, at its .ts position. */
export interface EnvLiteral {
  readonly file: string;
  readonly line: number;
  readonly name: string;
}

const DECIDING = new Set(["use", "deny", "honourRequest"]);
// Calls whose argument lists name environments: use(ENV), honourRequest(ctx, [ENV...]),
// requestedEnv(ctx, [ENV...]), listed(ctx, ENV).
const ENV_ARGUMENT: ReadonlyMap<string, number> = new Map([
  ["use", 0],
  ["honourRequest", 1],
  ["requestedEnv", 1],
  ["listed", 1],
]);

/** Every policy file of the directory: index.ts, then the group files. */
export function policyFiles(policy: PolicyDir): string[] {
  return ["index.ts", ...policy.groups.map((g) => g.file)];
}

function parse(policy: PolicyDir, file: string): ts.SourceFile {
  const text = fs.readFileSync(path.join(policy.dir, file), "utf8");
  return ts.createSourceFile(file, text, ts.ScriptTarget.ES2023, true, ts.ScriptKind.TS);
}

function calleeName(call: ts.CallExpression): string | undefined {
  return ts.isIdentifier(call.expression) ? call.expression.text : undefined;
}

function visit(node: ts.Node, fn: (node: ts.Node) => void): void {
  fn(node);
  ts.forEachChild(node, (child) => visit(child, fn));
}

/** The decision sites of every policy file. */
export function decisionSites(policy: PolicyDir): DecisionSite[] {
  const sites: DecisionSite[] = [];
  for (const file of policyFiles(policy)) {
    const source = parse(policy, file);
    visit(source, (node) => {
      if (!ts.isCallExpression(node)) return;
      const name = calleeName(node);
      if (name === undefined || !DECIDING.has(name)) return;
      const pos = source.getLineAndCharacterOfPosition(node.getStart(source));
      sites.push({ file, line: pos.line + 1, column: pos.character + 1, call: `${name}(...)` });
    });
  }
  return sites;
}

function literals(node: ts.Expression | undefined): ts.StringLiteralLike[] {
  if (node === undefined) return [];
  if (ts.isStringLiteralLike(node)) return [node];
  if (ts.isArrayLiteralExpression(node)) return node.elements.flatMap((e) => literals(e as ts.Expression));
  return [];
}

/** Environment names written as literals: SDK call arguments and `env:` properties. */
export function envLiterals(policy: PolicyDir): EnvLiteral[] {
  const found: EnvLiteral[] = [];
  for (const file of policyFiles(policy)) {
    const source = parse(policy, file);
    const add = (lit: ts.StringLiteralLike): void => {
      const line = source.getLineAndCharacterOfPosition(lit.getStart(source)).line + 1;
      found.push({ file, line, name: lit.text });
    };
    visit(source, (node) => {
      if (ts.isCallExpression(node)) {
        const name = calleeName(node);
        const index = name === undefined ? undefined : ENV_ARGUMENT.get(name);
        if (index !== undefined) literals(node.arguments[index]).forEach(add);
      } else if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === "env") {
        literals(node.initializer).forEach(add);
      }
    });
  }
  return found;
}
