import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RefusedError } from '../../src/errors.js';
import { acquireTenantLock, lockPath } from '../../src/engine/lock.js';

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

  it('creates its folder shared between users of the host (sticky, world-writable like /tmp)', () => {
    const folder = join(dir(), 'locks');
    acquireTenantLock({ ...base, dir: folder }).release();
    expect(statSync(folder).mode & 0o7777).toBe(0o1777);
  });

  it('treats an unreadable lock file as held and says where it is', () => {
    const d = dir();
    writeFileSync(lockPath(d, base.organization, base.target), '{"host":');
    expect(() => acquireTenantLock({ ...base, dir: d, isAlive: () => false })).toThrow(/unreadable lock file/);
  });
});
