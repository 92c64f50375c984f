/**
 * Issue 22 point 3: what the terminal shows. Tables fit the width (80 without a terminal, COLUMNS when
 * set, everything with --wide), advice once per kind with its senders, every blocking risk listed
 * before the refusal, log lines that name who drifted, verify --only (exit code from new senders),
 * rollback's hint without a terminal, explain's repeated stop said once, and exit 4 on Ctrl-C /
 * SIGTERM / SIGHUP in commands that are not write runs. Spawns the built CLI (no TTY).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, CLI, EngineWorkspace, ROOT, sim, slowDriftedTenant } from './engine-support.js';

vi.setConfig({ testTimeout: 120_000 });

/** A 2,000-mailbox simulated tenant (40 senders), the shipped usage and disable playbooks, one allowlisted device. */
let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-terminal-'));
  for (const f of ['smtp-auth-usage.yaml', 'smtp-auth-disable.yaml']) copyFileSync(join(ROOT, 'playbooks', f), join(dir, f));
  writeFileSync(join(dir, 'allowlist.example.txt'), 'scanner@contoso.com\n');
  expect(cli(['sim', 'init', 'state.json', '--mailboxes', '2000', '--seed', '7']).code).toBe(0);
  expect(cli(['sim', 'export-usage', 'state.json', '--kind', 'clients-report', '--out', 'smtp-auth-clients-report.csv']).code).toBe(0);
  expect(cli(['sim', 'export-usage', 'state.json', '--kind', 'request-report', '--out', 'SmtpCSReport.csv']).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env, EXO_PLAYBOOK_LOCK_DIR: join(dir, 'locks'), ...env };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'COLUMNS']) if (!(k in env)) delete base[k];
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, env: base, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SIM = ['--target', 'sim:state.json'];

/** The lines of the sender table in a text report (title to the first line that is not indented by 4). */
function senderTable(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes('SMTP AUTH senders (every source merged'));
  expect(start).toBeGreaterThan(-1);
  const rest = lines.slice(start + 1);
  return rest.slice(0, rest.findIndex((l) => !l.startsWith('    ')));
}

describe('tables fit the terminal', () => {
  it('80 columns without a terminal: least important columns dropped and named, no line wider', () => {
    const r = cli(['plan', 'smtp-auth-usage.yaml', ...SIM]);
    expect(r.code, r.stderr).toBe(0);
    const table = senderTable(r.stdout);
    for (const line of table) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(table[0]).toMatch(/^ {4}Sender +Protocol +SMTP AUTH now -> after +Allowlisted/);
    expect(table[0]).not.toContain('Client IPs');
    expect(table.join(' ')).toMatch(/not shown at this width: .*Client\s+IPs.*--wide\s+shows\s+every\s+column/);
    // Every sender is still there, one row each (40 senders, 20 shown, then the count).
    expect(table.filter((l) => /^ {4}\S+@contoso\.com /.test(l))).toHaveLength(20);
  });

  it('COLUMNS widens the table; --wide prints every column whatever the width', () => {
    const wider = senderTable(cli(['plan', 'smtp-auth-usage.yaml', ...SIM], { COLUMNS: '140' }).stdout);
    for (const line of wider) expect(line.length).toBeLessThanOrEqual(140);
    expect(wider[0]).toContain('Messages');
    const all = senderTable(cli(['plan', 'smtp-auth-usage.yaml', ...SIM, '--wide']).stdout);
    expect(all[0]).toMatch(/^ {4}Sender +Mailbox +Protocol +Messages +First seen +Last seen .*Client IPs +TLS +Seen by +SMTP AUTH now -> after +Allowlisted$/);
    expect(all.join('\n')).not.toContain('not shown at this width');
    expect(Math.max(...all.map((l) => l.length))).toBeGreaterThan(80);
  });
});

describe('advice once per kind', () => {
  it('verify prints each piece of advice once, with the senders it applies to', () => {
    const r = cli(['verify', 'smtp-auth-usage.yaml', ...SIM]);
    expect(r.code, r.stderr).toBe(2);
    const warns = r.stdout.split('\n').filter((l) => l.includes('WARN basic-smtp-deadline'));
    expect(warns.length).toBeGreaterThan(10);
    for (const w of warns) expect(w).not.toContain('Advice:');
    // The 300-character advice: once, not once per sender.
    expect(r.stdout.split('else High Volume Email for internal recipients only').length - 1).toBe(1);
    const advice = r.stdout.slice(r.stdout.indexOf('Advice (once per kind'));
    const basic = advice.slice(0, advice.indexOf('- else High Volume Email'));
    expect(basic).toMatch(new RegExp(`${warns.length} senders:`));
    // Every sender that got the warning is named under the advice.
    for (const w of warns) expect(advice.replace(/\s+/g, ' ')).toContain(/basic-smtp-deadline (\S+):/.exec(w)![1]!);
  });
});

describe('the plan before a refusal', () => {
  it('lists every blocking risk (no "... and N more") and apply then refuses with exit 4', () => {
    const r = cli(['apply', 'smtp-auth-disable.yaml', ...SIM, '--runs-dir', 'runs'], { EXO_APP_ID: 'x', EXO_CERT_PEM: 'x' });
    expect(r.code, r.stderr).toBe(4);
    const blocking = r.stdout.split('\n').filter((l) => /^\s+BLOCKING /.test(l));
    const summary = /(\d+) blocking risks/.exec(r.stdout);
    expect(Number(summary![1])).toBeGreaterThan(20);
    expect(blocking).toHaveLength(Number(summary![1]));
    expect(r.stdout.split('\n').filter((l) => /^\s+BLOCKING|^\s+\.\.\. and \d+ more$/.test(l)).filter((l) => l.includes('... and'))).toEqual([]);
    // The progress line for the plan says apply will refuse it.
    expect(r.stderr).toMatch(/plan\s+\d+ change\(s\) to write; \d+ blocking risk\(s\): refused unless accepted/);
  });
});

const hasTmux = spawnSync('tmux', ['-V']).error === undefined;

describe.runIf(hasTmux)('on a terminal (tmux): no success tick in front of a refusal', () => {
  it('the plan apply refuses is marked ✖, not ✔, and the refusal follows', async () => {
    const socket = `exo-terminal-${randomUUID()}`;
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    try {
      // stdout (the plan) to a file: the screen holds the progress display and the refusal.
      const command = `NO_COLOR=1 EXO_PLAYBOOK_LOCK_DIR=${JSON.stringify(join(dir, 'locks'))} ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} apply smtp-auth-disable.yaml --target sim:state.json --runs-dir runs --yes > plan.txt; echo EXO_DONE=$?; sleep 60`;
      expect(tmux('new-session', '-d', '-s', 'apply', '-x', '160', '-y', '60', '-c', dir, command).status).toBe(0);
      let screen = '';
      for (let i = 0; i < 600 && !screen.includes('EXO_DONE='); i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        screen = tmux('capture-pane', '-p', '-S', '-500', '-t', 'apply').stdout;
      }
      expect(screen).toContain('EXO_DONE=4');
      expect(screen).toMatch(/✖ \d+ change\(s\) to write; \d+ blocking risk\(s\): refused unless accepted/);
      expect(screen).not.toMatch(/✔[^\n]*blocking risk/);
      expect(screen.indexOf('✖')).toBeLessThan(screen.indexOf('would lose SMTP AUTH'));
    } finally {
      tmux('kill-server');
    }
  });
});

describe('log lines name who drifted', () => {
  it('verify --log-file: the verify and run-end events list the failing checks and their subjects', () => {
    const r = cli(['verify', 'smtp-auth-usage.yaml', ...SIM, '--log-file', 'verify.jsonl']);
    expect(r.code).toBe(2);
    const events = readFileSync(join(dir, 'verify.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; message: string; drifted?: { check: string; subject: string }[] });
    const end = events.find((e) => e.type === 'run-end')!;
    expect(end.message).toMatch(/^drift found: organization-off Organization, /);
    expect(end.drifted).toContainEqual({ step: 'state', check: 'organization-off', subject: 'Organization' });
    expect(end.drifted!.length).toBe(Number(/DRIFT: \d+ pass, (\d+) fail/.exec(r.stdout)![1]));
  });
});

describe('verify --only', () => {
  it('follows the usage step alone: 0 with no new sender, 2 when one appears, though the organization switch is on', () => {
    const history = join(dir, 'smtp-auth-usage.history.json');
    rmSync(history, { force: true });
    const first = cli(['verify', 'smtp-auth-usage.yaml', ...SIM, '--only', 'usage']);
    expect(first.code, first.stdout).toBe(0);
    expect(first.stdout).toContain('Only:     step usage');
    expect(first.stdout).not.toContain('organization-off');
    // Without --only the same tenant drifts (the organization switch is on).
    expect(cli(['verify', 'smtp-auth-usage.yaml', ...SIM]).code).toBe(2);
    // A sender the previous run did not see: the usage-only verify fails on it and names it.
    const recorded = JSON.parse(readFileSync(history, 'utf8')) as { senders: string[] };
    const dropped = recorded.senders.shift()!;
    writeFileSync(history, JSON.stringify(recorded));
    const next = cli(['verify', 'smtp-auth-usage.yaml', ...SIM, '--only', 'smtp-auth/usage']);
    expect(next.code).toBe(2);
    expect(next.stdout).toContain(`FAIL usage-new-sender ${dropped}`);
    expect(next.stdout).toMatch(/DRIFT: \d+ pass, 1 fail/);
  });

  it('a step name the playbook does not have is an error that lists its steps', () => {
    const r = cli(['verify', 'smtp-auth-usage.yaml', ...SIM, '--only', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error: --only nope: the playbook has no step with this id or action');
    expect(r.stderr).toContain('usage (smtp-auth/usage), state (smtp-auth/verify)');
  });
});

describe('explain without --target', () => {
  it('says the tenant-dependent stop once, then names the step where it was said', () => {
    const r = cli(['explain', 'smtp-auth-disable.yaml'], { EXO_APP_ID: 'x', EXO_CERT_PEM: 'x' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('returned 0 objects').length - 1).toBe(1);
    expect(r.stdout).toContain('reads could not all be listed without a tenant (as in step usage)');
  });
});

describe('rollback without a terminal', () => {
  const workspaces: EngineWorkspace[] = [];
  afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));

  it('says to run the rollback again with --yes, not to save a plan', () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    expect(w.run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--yes']).code).toBe(0);
    const runDir = join('runs', readdirSync(w.runsDir)[0]!);
    const r = w.run(['rollback', runDir, '--runs-dir', 'runs']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('run the same rollback again with --yes');
    expect(r.stderr).not.toContain('plan --out');
  });
});

describe('Ctrl-C, SIGTERM and SIGHUP: exit 4 in every command', () => {
  const workspaces: EngineWorkspace[] = [];
  afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));

  it.each([
    ['plan', 'SIGINT'],
    ['verify', 'SIGTERM'],
    ['plan', 'SIGHUP'],
    ['explain', 'SIGINT'],
  ] as const)('%s stopped by %s while reading exits 4 and says nothing was written', async (command, signal) => {
    const w = new EngineWorkspace(slowDriftedTenant(1000));
    workspaces.push(w);
    const args = command === 'explain' ? ['explain', 'playbook.yaml', ...sim(w)] : [command, 'playbook.yaml', ...sim(w)];
    const child = spawn(process.execPath, [CLI, ...args], { cwd: w.dir, env: w.env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })));
    // Reading: the simulator has logged its first call.
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (w.calls().length > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill(signal);
    const { code, signal: killedBy } = await done;
    expect(killedBy).toBeNull();
    expect(code, stderr).toBe(4);
    expect(stderr).toContain(`${signal === 'SIGINT' ? 'interrupt' : `${signal} received`}: stopped; nothing was written to the tenant (exit 4)`);
  });
});
