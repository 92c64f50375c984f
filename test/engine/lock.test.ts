import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/errors.js';
import { acquireTenantLock, lockDir, lockPath } from '../../src/engine/lock.js';

let dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'exo-lock-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  dirs = [];
});

const base = { organization: 'contoso.onmicrosoft.com', target: 'sim:/t.json', command: 'apply x', host: 'jump1' };

describe('tenant lock', () => {
  it('lets one run in and refuses a second, naming host, pid and start time (exit 4)', () => {
    const d = dir();
    const first = acquireTenantLock({ ...base, dir: d, pid: 101, isAlive: () => true, now: () => new Date('2026-11-23T10:15:00Z') });
    let refusal: unknown;
    try {
      acquireTenantLock({ ...base, dir: d, pid: 202, isAlive: () => true });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RefusedError);
    expect((refusal as RefusedError).guard).toBe('lock');
    expect((refusal as RefusedError).exitCode).toBe(4);
    expect((refusal as Error).message).toContain('host jump1, pid 101, since 2026-11-23T10:15:00.000Z');
    first.release();
    expect(existsSync(first.path)).toBe(false);
    acquireTenantLock({ ...base, dir: d, pid: 202, isAlive: () => true }).release();
  });

  it('keys by organization and target: different tenants do not block each other', () => {
    const d = dir();
    const a = acquireTenantLock({ ...base, dir: d, isAlive: () => true });
    const b = acquireTenantLock({ ...base, target: 'sim:/other.json', dir: d, isAlive: () => true });
    expect(a.path).not.toBe(b.path);
    a.release();
    b.release();
  });

  it('takes over a stale lock of a dead process on the same host', () => {
    const d = dir();
    const stale = acquireTenantLock({ ...base, dir: d, pid: 101 });
    const next = acquireTenantLock({ ...base, dir: d, pid: 202, isAlive: (pid) => pid !== 101 });
    expect(JSON.parse(readFileSync(next.path, 'utf8')).pid).toBe(202);
    stale.release(); // the old holder's release must not remove the new holder's lock
    expect(existsSync(next.path)).toBe(true);
    next.release();
    expect(existsSync(next.path)).toBe(false);
  });

  it('never takes over a lock from another host, even if that pid is not alive here', () => {
    const d = dir();
    acquireTenantLock({ ...base, dir: d, host: 'jump2', pid: 101 });
    expect(() => acquireTenantLock({ ...base, dir: d, pid: 202, isAlive: () => false })).toThrow(/host jump2, pid 101/);
  });

  it('treats an unreadable lock file as held and says where it is', () => {
    const d = dir();
    writeFileSync(lockPath(d, base.organization, base.target), '{"host":');
    expect(() => acquireTenantLock({ ...base, dir: d, isAlive: () => false })).toThrow(/unreadable lock file/);
  });

  it('a lock folder named by EXO_PLAYBOOK_LOCK_DIR is made shared between users (sticky, world-writable like /tmp)', () => {
    const folder = join(dir(), 'shared-locks');
    acquireTenantLock({ ...base, env: { EXO_PLAYBOOK_LOCK_DIR: folder } }).release();
    expect(statSync(folder).mode & 0o7777).toBe(0o1777);
  });

  it('the default lock folder is a per-user state folder, whatever TMPDIR says', () => {
    expect(lockDir({ HOME: '/home/ops', TMPDIR: '/tmp/a' }, 'linux')).toBe('/home/ops/.local/state/exo-playbook/locks');
    expect(lockDir({ HOME: '/home/ops', TMPDIR: '/tmp/b' }, 'linux')).toBe('/home/ops/.local/state/exo-playbook/locks');
    expect(lockDir({ HOME: '/home/ops', XDG_STATE_HOME: '/var/state/ops' }, 'linux')).toBe('/var/state/ops/exo-playbook/locks');
    // A relative XDG_STATE_HOME is invalid (XDG base directory spec) and ignored.
    expect(lockDir({ HOME: '/home/ops', XDG_STATE_HOME: 'state' }, 'linux')).toBe('/home/ops/.local/state/exo-playbook/locks');
    expect(lockDir({ HOME: '/home/ops', EXO_PLAYBOOK_LOCK_DIR: '/srv/locks' }, 'linux')).toBe('/srv/locks');
    expect(lockDir({ LOCALAPPDATA: 'C:\\Users\\ops\\AppData\\Local', HOME: 'C:\\Users\\ops' }, 'win32')).toMatch(/AppData.Local.exo-playbook.locks$/);
  });

  it('the per-user default folder is private (0700)', () => {
    const home = dir();
    const lock = acquireTenantLock({ ...base, env: { HOME: home } });
    lock.release();
    expect(statSync(join(home, '.local', 'state', 'exo-playbook', 'locks')).mode & 0o777).toBe(0o700);
  });

  it('against Exchange the key is the signed-in tenant: the same tenant named by domain or by id is one lock', () => {
    const d = dir();
    const byDomain = acquireTenantLock({ ...base, organization: 'contoso.onmicrosoft.com', target: 'exchange', tenant: 'contoso.onmicrosoft.com', dir: d, isAlive: () => true });
    expect(() =>
      acquireTenantLock({ ...base, organization: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', target: 'exchange', tenant: 'CONTOSO.onmicrosoft.com', dir: d, isAlive: () => true }),
    ).toThrow(RefusedError);
    byDomain.release();
  });

  it('against Exchange without the signed-in tenant no lock is taken (refused, exit 4): two names would take two locks', () => {
    expect(() => acquireTenantLock({ ...base, target: 'exchange', dir: dir() })).toThrow(/is not known yet \(it is read after sign-in\)/);
  });

  it('a lock path that is a FIFO counts as held and is never waited on', () => {
    const d = dir();
    execFileSync('mkfifo', [lockPath(d, base.organization, base.target)]);
    expect(() => acquireTenantLock({ ...base, dir: d, isAlive: () => false })).toThrow(/unreadable lock file/);
  });
});
