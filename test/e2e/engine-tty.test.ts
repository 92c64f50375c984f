/**
 * The interactive path, in-process (a real TTY cannot be spawned portably): the plan is shown, the
 * user is asked, and only "y" writes.
 */
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/io.js';
import { EngineWorkspace, sim } from './engine-support.js';

let workspaces: EngineWorkspace[] = [];
afterEach(() => {
  workspaces.forEach((w) => w.cleanup());
  workspaces = [];
});

function ttyIO(w: EngineWorkspace, answer: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const io: CliIO = { stdout, stderr, stdin: Readable.from([answer]), color: false, interactive: true, env: w.env(), cwd: w.dir };
  return { io, out: () => out, err: () => err };
}

describe('apply on a terminal', () => {
  it('asks; "n" refuses with exit 4 and writes nothing', async () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const before = w.readState();
    const t = ttyIO(w, 'n\n');
    const code = await run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs'], t.io);
    expect(code).toBe(4);
    expect(t.out()).toContain('Organization  SmtpClientAuthenticationDisabled  $false -> $true');
    // The question states the impact and the target (issue 10 point 8).
    expect(t.err()).toContain(
      `Turn SMTP AUTH off for the organization (6 mailboxes follow it), keep it for 1 allowlisted mailbox, reset 4 stray overrides. Target: SIMULATED tenant ${w.state} (contoso.onmicrosoft.com). Apply these 6 changes? [y/N]`,
    );
    expect(t.err()).not.toContain('The plan above is shortened');
    expect(t.err()).toContain('not confirmed');
    expect(w.readState()).toEqual(before);
  });

  it('with --format json (no plan shown) the question says where to read the plan first', async () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const t = ttyIO(w, 'n\n');
    const code = await run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs', '--format', 'json'], t.io);
    expect(code).toBe(4);
    expect(t.err()).toContain(`No plan is shown with --format json. To see all of it before answering, run in another terminal: exo-playbook plan ${w.playbook} --target sim:${w.state} --format markdown`);
  });

  it('asks; "y" applies (exit 0)', async () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const t = ttyIO(w, 'y\n');
    const code = await run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs'], t.io);
    expect(code, t.err()).toBe(0);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    expect(t.out()).toContain('Apply result: 6 applied, 0 failed, 0 skipped');
  });
});

describe('rollback on a terminal', () => {
  it('asks with the target named; "n" refuses with exit 4 and restores nothing', async () => {
    const w = new EngineWorkspace();
    workspaces.push(w);
    const applied = ttyIO(w, 'y\n');
    expect(await run(['apply', 'playbook.yaml', ...sim(w), '--runs-dir', 'runs'], applied.io), applied.err()).toBe(0);
    const after = w.readState();
    const runDir = applied.out().match(/Run directory: (\S+)/)![1]!;
    const t = ttyIO(w, 'n\n');
    const code = await run(['rollback', runDir, '--runs-dir', 'runs'], t.io);
    expect(code).toBe(4);
    expect(t.err()).toContain(`Roll back 6 changes (restore the values before the run). Target: SIMULATED tenant ${w.state} (contoso.onmicrosoft.com). Roll back? [y/N]`);
    expect(w.readState()).toEqual(after);
  });
});
