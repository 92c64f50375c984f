/**
 * No input hangs and no input prints a stack trace (issue 24 point 2): every special file, /proc path
 * and bad option value the hostile run found ends in exit 1 with a message naming the path or the
 * option (and its range), against the built CLI. Each case waits for the process to exit; the test
 * timeout is only a safety net.
 */
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, EngineWorkspace } from './engine-support.js';
import { playbookWith, type Workspace } from './smtp-auth-support.js';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

let w: EngineWorkspace;
let before: string;

/** Runs the CLI in the workspace and resolves when it exits (never on a timer). */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, asUser?: number): Promise<Exit> {
  const argv = [CLI, ...args];
  const [command, commandArgs] = asUser === undefined ? [process.execPath, argv] : ['setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, ...argv]];
  return new Promise((resolve) => {
    const childEnv = { ...w.env(), ...env };
    // The call log belongs to this (root) process; another account could not append to it.
    if (asUser !== undefined) delete childEnv.EXO_PLAYBOOK_SIM_CALL_LOG;
    const child = spawn(command, commandArgs, { cwd: w.dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Exit 1, the expected message, and never a stack trace. */
function expectUserError(r: Exit, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code, r.stderr).toBe(1);
}

beforeAll(() => {
  assertBuilt();
  w = new EngineWorkspace();
  before = JSON.stringify(w.readState());
  execFileSync('mkfifo', [join(w.dir, 'pipe')]);
  symlinkSync('/dev/zero', join(w.dir, 'zero-link'));
  writeFileSync(join(w.dir, 'a-file'), 'not a folder\n');
});
afterAll(() => w.cleanup());

describe('special files as inputs end in exit 1 at once', () => {
  it('a playbook that is /dev/zero, a symlink to it, or a FIFO', async () => {
    expectUserError(await cli(['validate', '/dev/zero']), /cannot read the playbook: it is a device, not a regular file/);
    expectUserError(await cli(['validate', 'zero-link']), /zero-link:1:1: cannot read the playbook: it is a device, not a regular file/);
    expectUserError(await cli(['plan', 'pipe', '--target', `sim:${w.state}`]), /pipe:1:1: cannot read the playbook: it is a FIFO \(named pipe\), not a regular file/);
  });

  it('--log-file that is a FIFO or /dev/full', async () => {
    expectUserError(await cli(['plan', 'playbook.yaml', '--target', 'sim:tenant.json', '--log-file', 'pipe']), /cannot write the log file \(--log-file\) .*pipe: it is a FIFO/);
    expectUserError(await cli(['plan', 'playbook.yaml', '--target', 'sim:tenant.json', '--log-file', '/dev/full']), /cannot write the log file \(--log-file\) \/dev\/full: it is a device, not a regular file/);
  });

  // A write that fails part-way (the disk fills up) must end the run with exit 1, not lose the log
  // silently: the file size limit (prlimit, with SIGXFSZ ignored so write() fails with EFBIG as on a
  // full disk) stands in for a full disk.
  const prlimit = (() => {
    try {
      execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!prlimit)('a --log-file write that fails part-way ends the run with exit 1 naming the file', async () => {
    const r = await new Promise<Exit>((resolve) => {
      const child = spawn('prlimit', ['--fsize=600', 'bash', '-c', 'trap "" XFSZ; exec "$0" "$@"', process.execPath, CLI, 'plan', 'playbook.yaml', '--target', 'sim:tenant.json', '--log-file', 'short.jsonl'], {
        cwd: w.dir,
        env: { ...w.env(), EXO_PLAYBOOK_SIM_CALL_LOG: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expectUserError(r, /cannot write the log file \(--log-file\) .*short\.jsonl: the file is too large/);
  });

  it('--target sim:<fifo> and sim show <fifo>', async () => {
    expectUserError(await cli(['plan', 'playbook.yaml', '--target', 'sim:pipe']), /cannot read simulated tenant state file .*pipe: it is a FIFO/);
    expectUserError(await cli(['sim', 'show', 'pipe']), /cannot read simulated tenant state file .*pipe: it is a FIFO/);
  });

  it('apply --plan <fifo>, --plan /dev/zero, and a 3 GiB plan refused by its size without reading it', async () => {
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--plan', 'pipe', '--yes']), /cannot read the saved plan \(--plan\) .*pipe: it is a FIFO/);
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--plan', '/dev/zero', '--yes']), /cannot read the saved plan \(--plan\) \/dev\/zero: it is a device/);
    const big = join(w.dir, 'big-plan.json');
    writeFileSync(big, '');
    truncateSync(big, 3 * 1024 ** 3); // sparse: no disk used
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--plan', 'big-plan.json', '--yes']), /the saved plan \(--plan\) .*big-plan\.json: 3221225472 bytes is over the 268435456-byte limit/);
    expect(JSON.stringify(w.readState())).toBe(before);
  });

  it('--out that is a FIFO', async () => {
    expectUserError(await cli(['plan', 'playbook.yaml', '--target', 'sim:tenant.json', '--out', 'pipe']), /cannot write the plan \(--out\) .*pipe: it is a FIFO/);
  });

  it('rollback <dir> whose journal.jsonl is a FIFO or a link to /dev/zero', async () => {
    const saved = await cli(['plan', 'playbook.yaml', '--target', 'sim:tenant.json', '--out', 'saved.json']);
    expect(saved.code, saved.stderr).toBe(2);
    for (const [name, make] of [
      ['fifo-run', (file: string) => execFileSync('mkfifo', [file])],
      ['zero-run', (file: string) => symlinkSync('/dev/zero', file)],
    ] as const) {
      const run = join(w.dir, name);
      mkdirSync(run);
      copyFileSync(join(w.dir, 'saved.json'), join(run, 'plan.json'));
      make(join(run, 'journal.jsonl'));
      expectUserError(await cli(['rollback', name, '--yes']), /cannot read the journal \(rollback <run-dir>\) .*journal\.jsonl: it is (a FIFO|a device)/);
    }
  });

  it('fleet inputs: an inventory that is a FIFO or /dev/zero, fleet merge of a FIFO, fleet rollback of /dev/zero, --result /dev/full', async () => {
    expectUserError(await cli(['fleet', 'validate', 'playbook.yaml', '--inventory', 'pipe']), /pipe:1:1: cannot read the inventory: it is a FIFO \(named pipe\), not a regular file/);
    expectUserError(await cli(['fleet', 'plan', 'playbook.yaml', '--inventory', 'zero-link']), /zero-link:1:1: cannot read the inventory: it is a device, not a regular file/);
    expectUserError(await cli(['fleet', 'merge', 'pipe']), /cannot read the fleet result \(fleet merge\) .*pipe: it is a FIFO/);
    writeFileSync(join(w.dir, 'inventory.yaml'), 'apiVersion: exo-playbook/v1\nkind: Inventory\ntenants:\n  - id: contoso.onmicrosoft.com\n    target: sim:tenant.json\n');
    expectUserError(await cli(['fleet', 'rollback', '/dev/zero', '--inventory', 'inventory.yaml']), /cannot read the fleet result \(fleet rollback\) \/dev\/zero: it is a device/);
    expectUserError(await cli(['fleet', 'verify', 'playbook.yaml', '--inventory', 'inventory.yaml', '--result', '/dev/full']), /cannot write the fleet result \(--result\) \/dev\/full: it is a device, not a regular file/);
  });
});

describe('folders the run writes: a file, a device or /proc is a located error naming the option', () => {
  it('--runs-dir that is a regular file, /dev/full, or under /proc (no endless mkdir)', async () => {
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', 'a-file', '--yes']), /cannot create the runs folder \(--runs-dir\) \S*a-file: \S*a-file is a file, not a folder/);
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', '/dev/full', '--yes']), /cannot create the runs folder \(--runs-dir\) \/dev\/full: \/dev\/full is a device, not a folder/);
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', '/proc/nope/runs', '--yes']), /cannot create the runs folder \(--runs-dir\) \/proc\/nope\/runs: \/proc\/nope: no such file or folder/);
    expect(JSON.stringify(w.readState())).toBe(before);
  });

  it('a lock folder under /proc or that is a regular file', async () => {
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--yes'], { EXO_PLAYBOOK_LOCK_DIR: '/proc/nope/locks' }), /cannot create the lock folder \(EXO_PLAYBOOK_LOCK_DIR\) \/proc\/nope\/locks: \/proc\/nope: no such file or folder/);
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--yes'], { EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'a-file') }), /cannot create the lock folder \(EXO_PLAYBOOK_LOCK_DIR\) .*a-file: .*a-file is a file, not a folder/);
    expect(JSON.stringify(w.readState())).toBe(before);
  });

  const root = process.getuid?.() === 0;
  // Permission checks need another account: as root the test runs the CLI as `nobody` (setpriv);
  // as any other user it cannot switch accounts, so these cases are skipped (not root).
  it.skipIf(!root)('as a non-root user: a runs folder or a lock folder in a root-only place (EACCES)', async () => {
    const nobody = 65534;
    for (const file of [w.dir, w.playbook, w.state]) chmodSync(file, file === w.dir ? 0o755 : 0o644);
    mkdirSync(join(w.dir, 'root-only'), { mode: 0o700 });
    mkdirSync(join(w.dir, 'shared-locks'), { mode: 0o777 });
    chmodSync(join(w.dir, 'shared-locks'), 0o777);
    const shared = { EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'shared-locks') };
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--runs-dir', 'root-only/runs', '--yes'], shared, nobody), /cannot create the runs folder \(--runs-dir\) \S*root-only\/runs: .*permission denied/);
    expectUserError(await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', '--yes'], { EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'root-only', 'locks') }, nobody), /cannot create the lock folder \(EXO_PLAYBOOK_LOCK_DIR\) .*root-only\/locks: permission denied/);
    expect(JSON.stringify(w.readState())).toBe(before);
  });
});

describe('option values are validated by the option parser: exit 1 naming the option and its range', () => {
  const cases: [string[], RegExp][] = [
    ...['0', '4', 'abc', '1.5', '1e999', ''].map((v): [string[], RegExp] => [['--concurrency', v], /--concurrency must be a whole number from 1 to 3/]),
    ...['-1', 'abc', '0'].map((v): [string[], RegExp] => [['--keep-runs', v], /--keep-runs must be a whole number from 1 to 100000/]),
    ...['0', 'abc', '1999'].map((v): [string[], RegExp] => [['--max-chars', v], /--max-chars must be a whole number from 2000 to 10000000/]),
    [['--accept-breakage', 'x@'], /--accept-breakage takes e-mail addresses or "all": `x@` has nothing after the @/],
    [['--accept-breakage', 'a@contoso.com,,b@contoso.com'], /--accept-breakage takes comma-separated e-mail addresses or "all", with no empty item/],
  ];
  it.each(cases)('apply %j', async (option, message) => {
    const r = await cli(['apply', 'playbook.yaml', '--target', 'sim:tenant.json', ...option, '--yes']);
    expectUserError(r, message);
    expect(r.stderr).toContain(`option '${option[0]}`);
  });

  it('probe --port and --timeout name their range', async () => {
    expectUserError(await cli(['probe', 'canary@contoso.com', '--port', '70000']), /--port must be a whole number from 1 to 65535/);
    expectUserError(await cli(['probe', 'canary@contoso.com', '--timeout', '0']), /--timeout must be a whole number from 1 to 300 seconds/);
  });

  it('nothing was written by any refused command', () => {
    expect(JSON.stringify(w.readState())).toBe(before);
  });
});

describe('a path from the playbook outside its folder', () => {
  it('verify with `history: ../outside/history.json` is refused at its line and writes nothing there', async () => {
    const project = join(w.dir, 'project');
    mkdirSync(project);
    mkdirSync(join(w.dir, 'outside'));
    writeFileSync(join(project, 'usage.csv'), 'Sender address,Display name,Authentication protocol,Messages sent,Last activity (UTC)\nalice@contoso.com,Alice,Basic,3,2026-12-01T10:00:00Z\n');
    // playbookWith writes escape.yaml with the usual header into the folder `file()` names.
    playbookWith({ file: (name: string) => join(project, name) } as Workspace, ['  - id: usage', '    uses: smtp-auth/usage', '    with:', '      report: usage.csv', '      history: ../outside/history.json'].join('\n'));
    const r = await cli(['verify', 'project/escape.yaml', '--target', 'sim:tenant.json']);
    expectUserError(r, /project\/escape\.yaml:11:16: cannot use the usage history \.\.\/outside\/history\.json: it resolves to .*outside\/history\.json, outside the playbook's folder/);
    expect(existsSync(join(w.dir, 'outside', 'history.json'))).toBe(false);
  });
});

describe('a hard link is the same tenant', () => {
  it('the lock path of a hard link and of the file are the same (device and inode)', async () => {
    const { lockPath } = await import('../../src/engine/lock.js');
    linkSync(w.state, join(w.dir, 'hard.json'));
    expect(lockPath(w.lockDir, 'contoso.onmicrosoft.com', `sim:${join(w.dir, 'hard.json')}`)).toBe(lockPath(w.lockDir, 'other.onmicrosoft.com', `sim:${w.state}`));
  });
});
