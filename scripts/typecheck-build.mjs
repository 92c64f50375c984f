#!/usr/bin/env node
// `npm run typecheck` and `npm run build` in one process, for `npm test` (scripts/checks.mjs): the
// same two TypeScript programs as `tsc -p tsconfig.json --noEmit` and `tsc -p tsconfig.build.json`,
// with the same diagnostics and the same dist/, but every source file is read and parsed once and
// shared by both programs (src/ is in both), which saves about a quarter of the CPU of running the
// two tsc commands (docs/PERFORMANCE.md, "Test suite, round 3").
// Prints each program's diagnostics as tsc does when its output is not a terminal; exit 1 on any.
// The IPC message is sent with the process still running: disconnect so it can exit.
import { resolve } from 'node:path';
import ts from 'typescript';
import { bundle } from './bundle.mjs';

const root = process.cwd();

function parseConfig(file) {
  const config = ts.getParsedCommandLineOfConfigFile(resolve(root, file), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error(`cannot read ${file}`);
  return config;
}

// One parsed SourceFile per file name and language version, whichever program asks first.
const sourceFiles = new Map();
function compilerHost(options) {
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const key = `${fileName}\0${JSON.stringify(languageVersion)}`;
    let file = sourceFiles.get(key);
    if (!file) {
      file = read(fileName, languageVersion, onError, shouldCreate);
      if (file) sourceFiles.set(key, file);
    }
    return file;
  };
  return host;
}

function program(config) {
  const host = compilerHost(config.options);
  const created = ts.createProgram({ rootNames: config.fileNames, options: config.options, host, projectReferences: config.projectReferences, configFileParsingDiagnostics: config.errors });
  return { program: created, host };
}

let failed = false;
function report(name, diagnostics, host) {
  if (diagnostics.length === 0) return;
  failed = true;
  process.stdout.write(`${name}:\n${ts.formatDiagnostics(diagnostics, host)}`);
}

// build first: tsconfig.build.json, written to dist/ (written even with errors, as tsc does). Under
// scripts/checks.mjs (an IPC channel) the parent hears when dist/ is ready, so the tests can start
// while the typecheck goes on.
const build = program(parseConfig('tsconfig.build.json'));
const buildDiagnostics = [...ts.getPreEmitDiagnostics(build.program)];
buildDiagnostics.push(...build.program.emit().diagnostics);
report('build (tsconfig.build.json)', ts.sortAndDeduplicateDiagnostics(buildDiagnostics), build.host);
// Then the one-file CLI bin/ runs (scripts/bundle.mjs), as `npm run build` does.
if (!failed) {
  try {
    await bundle(root);
  } catch (error) {
    failed = true;
    process.stdout.write(`bundle (scripts/bundle.mjs): ${error instanceof Error ? error.message : String(error)}\n`);
  }
}
process.send?.({ built: !failed });

// typecheck: tsconfig.json (src/ again, with test/ and scripts/), no output.
const check = program(parseConfig('tsconfig.json'));
report('typecheck (tsconfig.json)', ts.getPreEmitDiagnostics(check.program), check.host);

process.exitCode = failed ? 1 : 0;
process.disconnect?.();
