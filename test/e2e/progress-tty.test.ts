/**
 * Progress on a real terminal: the built CLI runs inside tmux (its own server socket), against a
 * simulated tenant with a slow sign-in and a slowly paged bulk read. The screen is captured while
 * the run goes on: listr2's display names the sign-in and then the running count of the bulk read
 * before the report appears. With `--format json > plan.json` the display is on the terminal (stderr)
 * and the file holds the JSON document only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './engine-support.js';
import { reportWorkspace, type ReportWorkspace } from '../support/report-workspace.js';

const hasTmux = spawnSync('tmux', ['-V']).error === undefined;
if (!hasTmux && process.env.CI === 'true') throw new Error('tmux is missing: install it (.ci/run does)');

const socket = `exo-progress-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });

let w: ReportWorkspace;
beforeAll(async () => {
  assertBuilt();
  w = await reportWorkspace(6000, 'progress-tty');
  const state = JSON.parse(readFileSync(join(w.dir, 'tenant.json'), 'utf8')) as { faults: Record<string, unknown> };
  state.faults = { latencyByCmdlet: { 'Connect-ExchangeOnline': 3500 }, streamDelayMs: 300 };
  writeFileSync(join(w.dir, 'tenant.json'), JSON.stringify(state));
});
afterAll(() => {
  if (hasTmux) tmux('kill-server');
  w?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** How long a screen is watched for the line it waits for: a ceiling for a loaded machine (the assertion after it shows the last screen). */
const CEILING_MS = 240_000;

/**
 * Runs `command` in a fresh tmux window and captures the screen until `done` appears; returns every
 * distinct screen. Captures join wrapped lines (-J): where a long path wraps depends on the temp folder.
 */
async function screens(name: string, command: string, done: string): Promise<string[]> {
  const started = tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '50', '-c', w.dir, `${command}; echo ${done}=$?; sleep 60`);
  expect(started.status, started.stderr).toBe(0);
  const seen: string[] = [];
  for (const end = Date.now() + CEILING_MS; Date.now() < end; ) {
    const screen = tmux('capture-pane', '-p', '-J', '-t', name).stdout;
    if (seen.at(-1) !== screen) seen.push(screen);
    if (screen.includes(`${done}=`)) break;
    await sleep(100);
  }
  return seen;
}

describe.runIf(hasTmux)('progress on a terminal (tmux)', () => {
  it('shows the sign-in and the running count of the bulk read while they happen, then the report', async () => {
    const node = JSON.stringify(process.execPath);
    const all = await screens('plan', `NO_COLOR=1 ${node} ${JSON.stringify(CLI)} plan smtp-auth-disable.yaml ${w.target.join(' ')}`, 'EXO_DONE');
    const final = all.at(-1)!;
    expect(final).toContain('EXO_DONE=2');
    expect(final).toContain('Summary:');
    // Screens captured before the report was printed:
    const during = all.filter((s) => !s.includes('Summary:'));
    expect(during.some((s) => /Signing in \(\d+ s\)/.test(s) && /connecting to contoso\.onmicrosoft\.com/.test(s))).toBe(true);
    expect(during.some((s) => /Get-EXOCASMailbox: \d+ read so far/.test(s))).toBe(true);
  });

  it('apply: the display is finished before the plan and the question; "y" writes with a display per step', async () => {
    writeFileSync(
      join(w.dir, 'org-off.yaml'),
      'apiVersion: exo-playbook/v1\nname: org-off\ntenant:\n  organization: contoso.onmicrosoft.com\n  auth: { method: azure-cli }\n# No usage step: the guard would refuse (exit 4) without this reviewed acceptance.\nacceptNoUsageEvidence: { reason: a display test on a simulated tenant }\nsteps:\n  - id: org\n    uses: transport-config\n    with: { smtpClientAuthenticationDisabled: true }\n',
    );
    const node = JSON.stringify(process.execPath);
    const name = 'apply';
    expect(tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '50', '-c', w.dir, `NO_COLOR=1 ${node} ${JSON.stringify(CLI)} apply org-off.yaml ${w.target.join(' ')} --runs-dir runs; echo EXO_DONE=$?; sleep 60`).status).toBe(0);
    let screen = '';
    for (const end = Date.now() + CEILING_MS; Date.now() < end && !screen.includes('[y/N]'); ) {
      await sleep(100);
      screen = tmux('capture-pane', '-p', '-J', '-t', name).stdout;
    }
    // The question comes last, after the plan's summary, with no spinner left drawing under it.
    const text = screen.trimEnd();
    expect(text).toMatch(/\? \[y\/N\]$/);
    const summary = text.lastIndexOf('Summary: 1 change');
    expect(summary).toBeGreaterThan(-1);
    expect(text.slice(summary).split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(4);
    expect(screen).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    tmux('send-keys', '-t', name, 'y', 'Enter');
    for (const end = Date.now() + CEILING_MS; Date.now() < end && !screen.includes('EXO_DONE='); ) {
      await sleep(100);
      screen = tmux('capture-pane', '-p', '-J', '-t', name).stdout;
    }
    expect(screen).toContain('EXO_DONE=0');
    expect(screen).toMatch(/org \(transport-config\): 1 change/);
    expect(screen).toContain('Apply result: 1 applied, 0 failed, 0 skipped');
  });

  it('with stdout redirected, the display stays on the terminal and the file holds only the JSON document', async () => {
    const node = JSON.stringify(process.execPath);
    const all = await screens('json', `${node} ${JSON.stringify(CLI)} plan smtp-auth-disable.yaml ${w.target.join(' ')} --format json > plan.json`, 'EXO_DONE');
    expect(all.at(-1)).toContain('EXO_DONE=2');
    expect(all.some((s) => /Signing in \(\d+ s\)/.test(s))).toBe(true);
    expect(existsSync(join(w.dir, 'plan.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(w.dir, 'plan.json'), 'utf8'))).toMatchObject({ formatVersion: 1, kind: 'plan' });
  });
});
