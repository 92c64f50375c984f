/**
 * Issue 22 point 3: every command's --help ends with examples, and every example runs as written.
 * Each command's examples run in order with bash, in a fresh folder made as EXAMPLE_FOLDER says (a
 * simulated tenant, the shipped playbooks, usage files, an allowlist of existing mailboxes, a git
 * repository for diff --git), with `exo-playbook` on PATH as the built CLI; the exit code must be the
 * one the help states.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { EXAMPLES } from '../../src/cli/examples.js';
import { assertBuilt, CLI, ROOT } from '../e2e/engine-support.js';

vi.setConfig({ testTimeout: 180_000 });

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
beforeAll(assertBuilt);

/** Every command path of the program ("", "plan", "sim init", ...), but commander's own `help`. */
function commandPaths(): string[] {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), color: false, interactive: false, env: {}, cwd: process.cwd() };
  const paths: string[] = [];
  const walk = (c: Command, path: string) => {
    paths.push(path);
    for (const sub of c.commands) if (sub.name() !== 'help') walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(buildProgram(io, () => undefined), '');
  return paths;
}

function env(folder: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PATH: `${join(folder, '.bin')}:${process.env.PATH}`, EXO_PLAYBOOK_LOCK_DIR: join(folder, '.locks'), HOME: folder };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS', 'EXO_APP_ID', 'EXO_CERT_PEM']) delete e[k];
  return e;
}

/**
 * The example folder: what EXAMPLE_FOLDER describes, a fresh copy for each command. It is made once
 * per file (three CLI runs and a git commit) and copied, .git included: nothing in it names its folder.
 */
let template: string | undefined;
function exampleFolder(): string {
  template ??= makeExampleFolder();
  const folder = mkdtempSync(join(tmpdir(), 'exo-examples-'));
  made.push(folder);
  cpSync(template, folder, { recursive: true });
  return folder;
}

function makeExampleFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'exo-examples-template-'));
  made.push(folder);
  mkdirSync(join(folder, '.bin'));
  writeFileSync(join(folder, '.bin', 'exo-playbook'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
  chmodSync(join(folder, '.bin', 'exo-playbook'), 0o755);
  mkdirSync(join(folder, 'playbooks'));
  for (const f of readdirSync(join(ROOT, 'playbooks')).filter((f) => f.endsWith('.yaml'))) copyFileSync(join(ROOT, 'playbooks', f), join(folder, 'playbooks', f));
  writeFileSync(join(folder, 'playbooks', 'allowlist.example.txt'), 'scanner@contoso.com\nnoreply-erp@contoso.com\n');
  const run = (line: string) => execFileSync('bash', ['-c', line], { cwd: folder, env: env(folder), stdio: 'pipe' });
  run('exo-playbook sim init tenant.json');
  run('exo-playbook sim export-usage tenant.json --out playbooks/smtp-auth-clients-report.csv');
  run('exo-playbook sim export-usage tenant.json --kind request-report --out playbooks/SmtpCSReport.csv');
  writeFileSync(join(folder, '.gitignore'), '.bin/\n.locks/\n');
  run('git init -q && git -c user.email=t@example.invalid -c user.name=t add -A && git -c user.email=t@example.invalid -c user.name=t commit -qm examples');
  return folder;
}

describe('--help examples', () => {
  it('every command has examples, and its help ends with them', () => {
    const paths = commandPaths();
    expect(paths).toEqual(expect.arrayContaining(['', 'validate', 'plan', 'apply', 'verify', 'rollback', 'diff', 'explain', 'probe', 'sim', 'sim init', 'sim show', 'sim export-usage']));
    for (const path of paths) {
      expect(EXAMPLES[path]?.length, `examples for "${path}"`).toBeGreaterThan(0);
      const help = spawnSync(process.execPath, [CLI, ...(path ? path.split(' ') : []), '--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      const lines = help.stdout.trimEnd().split('\n');
      const examples = EXAMPLES[path]!;
      // The last lines are the examples, in order, each with its exit code.
      const tail = lines.slice(-examples.length);
      examples.forEach((e, i) => expect(tail[i]).toMatch(new RegExp(`^  ${e.run.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +# exit ${e.exit}: `)));
      expect(lines[lines.length - examples.length - 1]).toMatch(/^Examples \(they run as written in /);
    }
  });

  it.each(Object.keys(EXAMPLES).map((path) => [path || '(top level)', path]))('%s: every example runs as written with the exit code its help states', (_label, path) => {
    const folder = exampleFolder();
    for (const example of EXAMPLES[path]!) {
      const r = spawnSync('bash', ['-c', example.run], { cwd: folder, env: env(folder), encoding: 'utf8', timeout: 120_000 });
      expect(r.status, `${example.run}\n${r.stderr}`).toBe(example.exit);
    }
  });
});
