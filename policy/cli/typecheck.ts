// Type-checks a policy directory against the SDK with the TypeScript compiler: every file on its
// own terms, plus a generated file that checks each default export is a PolicyFunction. Errors
// come back as "FILE:LINE:COLUMN: error TSnnnn: message" with FILE relative to the directory.
import path from "node:path";
import ts from "typescript";
import type { PolicyDir } from "../bundle/policy-dir";
import { SDK_SPECIFIER, sdkDir } from "../bundle/sdk-path";
import { policyFiles } from "./sites";

const CHECK_FILE = "__chos_check__.ts";

/** Compiler options for policies: strict, no Node or DOM types (QuickJS has neither). */
function options(sdk: string): ts.CompilerOptions {
  return {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2023,
    lib: ["lib.es2023.d.ts"],
    types: [],
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    paths: { [SDK_SPECIFIER]: [path.join(sdk, "index.ts")] },
    skipLibCheck: true,
  };
}

// One assignment per file, each on its own line, so an error's line names the file.
function checkSource(files: readonly string[], sdk: string): { text: string; lineToFile: string[] } {
  const lines = [`import type { PolicyFunction } from ${JSON.stringify(path.join(sdk, "contract.ts"))};`];
  const lineToFile = [""];
  files.forEach((file, i) => {
    lines.push(`import policy${i} from ${JSON.stringify(`./${file}`)};`);
    lineToFile.push(file);
  });
  files.forEach((file, i) => {
    lines.push(`export const check${i}: PolicyFunction = policy${i};`);
    lineToFile.push(file);
  });
  return { text: `${lines.join("\n")}\n`, lineToFile };
}

function flatten(message: string | ts.DiagnosticMessageChain): string {
  return ts.flattenDiagnosticMessageText(message, "\n  ");
}

/** Type errors of the directory, formatted; empty when it type-checks. */
export function typeCheck(policy: PolicyDir): string[] {
  const sdk = sdkDir();
  const files = policyFiles(policy);
  const check = checkSource(files, sdk);
  const checkPath = path.join(policy.dir, CHECK_FILE);
  const opts = options(sdk);
  const host = ts.createCompilerHost(opts);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, target, onError, create) =>
    path.resolve(name) === checkPath
      ? ts.createSourceFile(name, check.text, target)
      : getSourceFile(name, target, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === checkPath || fileExists(name);
  const program = ts.createProgram({
    rootNames: [...files.map((f) => path.join(policy.dir, f)), checkPath],
    options: opts,
    host,
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = flatten(d.messageText);
    if (d.file === undefined || d.start === undefined) return `error TS${d.code}: ${text}`;
    const pos = d.file.getLineAndCharacterOfPosition(d.start);
    if (path.resolve(d.file.fileName) === checkPath) {
      const file = check.lineToFile[pos.line] ?? "index.ts";
      return `${file}:1:1: error TS${d.code}: the default export must be a PolicyFunction ((ctx: LoginContext) => Decision): ${text}`;
    }
    const name = path.relative(policy.dir, d.file.fileName).split(path.sep).join("/");
    const shown = name.startsWith("..") ? d.file.fileName : name;
    return `${shown}:${pos.line + 1}:${pos.character + 1}: error TS${d.code}: ${text}`;
  });
}
