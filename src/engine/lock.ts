/**
 * One run per tenant at a time. The lock is a file created with O_EXCL (so exactly one process wins),
 * keyed by organization + the real identity of the target (targetIdentity), holding who took it. A lock left by a dead process on this host is
 * taken over atomically: the stale file is renamed away (only one contender's rename succeeds), and
 * the contender checks it moved the file it judged stale before creating its own.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, realpathSync, readFileSync, renameSync, unlinkSync, linkSync, writeFileSync, openSync, writeSync, fsyncSync, closeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RefusedError } from '../errors.js';
import { sha256 } from './fingerprint.js';

export interface LockHolder {
  host: string;
  pid: number;
  /** ISO-8601 UTC */
  startedAt: string;
  command: string;
  organization: string;
  target: string;
  /** Distinguishes this holder from a later one with a recycled pid. */
  token: string;
}

export interface TenantLock {
  path: string;
  holder: LockHolder;
  release(): void;
}

export interface LockOptions {
  organization: string;
  /** Normalised target, e.g. "exchange" or "sim:/abs/path/state.json". */
  target: string;
  command: string;
  /** Default: EXO_PLAYBOOK_LOCK_DIR or <tmpdir>/exo-playbook-locks. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Injectable for tests. */
  isAlive?: (pid: number) => boolean;
  host?: string;
  pid?: number;
}

export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EXO_PLAYBOOK_LOCK_DIR || join(tmpdir(), 'exo-playbook-locks');
}

export function lockPath(dir: string, organization: string, target: string): string {
  const identity = targetIdentity(target);
  // A simulated tenant is its state file, whichever way a playbook names the organization (its
  // .onmicrosoft.com domain or its tenant id): the file alone is the key.
  const simulated = identity.startsWith('sim:');
  const key = sha256(simulated ? identity : `${organization.toLowerCase()}\n${identity}`).slice(0, 24);
  const label = simulated ? 'sim' : organization.toLowerCase().replace(/[^a-z0-9.-]/g, '_');
  return join(dir, `${label}-${key}.lock`);
}

/**
 * The real identity of a target: a simulated tenant is its state file as the file system resolves it
 * (symlinks, `..`, another spelling of the same path all name one tenant, so one lock); a state
 * file that does not exist yet keeps the path as given. Anything else names itself.
 */
export function targetIdentity(target: string): string {
  if (!target.startsWith('sim:')) return target;
  const file = target.slice('sim:'.length);
  try {
    return `sim:${realpathSync(file)}`;
  } catch {
    return `sim:${resolve(file)}`;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describe(holder: LockHolder): string {
  return `held by ${holder.command} on host ${holder.host}, pid ${holder.pid}, since ${holder.startedAt}`;
}

function readHolder(path: string): { text: string; holder: LockHolder | null } | null {
  try {
    const text = readFileSync(path, 'utf8');
    try {
      return { text, holder: JSON.parse(text) as LockHolder };
    } catch {
      return { text, holder: null };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function tryCreate(path: string, holder: LockHolder): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(holder, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}

export function acquireTenantLock(options: LockOptions): TenantLock {
  const dir = options.dir ?? lockDir(options.env);
  ensureSharedDir(dir);
  const path = lockPath(dir, options.organization, options.target);
  const host = options.host ?? hostname();
  const isAlive = options.isAlive ?? processAlive;
  const holder: LockHolder = {
    host,
    pid: options.pid ?? process.pid,
    startedAt: (options.now ?? (() => new Date()))().toISOString(),
    command: options.command,
    organization: options.organization,
    target: options.target,
    token: randomUUID(),
  };

  for (let round = 0; round < 5; round += 1) {
    if (tryCreate(path, holder)) return { path, holder, release: () => releaseLock(path, holder.token) };
    const current = readHolder(path);
    if (!current) continue; // released between our attempts: try again
    const other = current.holder;
    // A half-written lock (the holder died inside writeSync) is treated as held: only its own host
    // could know, and we cannot tell whose it is. The refusal says how to clear it.
    if (!other || other.host !== host || isAlive(other.pid)) {
      throw new RefusedError(
        `another run holds the lock for ${options.organization} (${options.target}): ${other ? describe(other) : 'unreadable lock file'}`,
        'lock',
        [`lock file: ${path}`, 'wait for that run to finish; if its process is gone on another host, delete the lock file'],
      );
    }
    // Stale: its process is gone on this host. Move it aside atomically; only one contender succeeds.
    const aside = `${path}.stale-${process.pid}-${randomUUID()}`;
    try {
      renameSync(path, aside);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'EPERM' || code === 'EACCES') {
        throw new RefusedError(`a stale lock for ${options.organization} (${options.target}) belongs to another user: ${describe(other)}`, 'lock', [
          `lock file: ${path}`,
          'its process is gone; its owner (or root) can delete the lock file',
        ]);
      }
      throw error;
    }
    const moved = readHolder(aside);
    if (moved && moved.text !== current.text) {
      // We moved a live lock someone else created after our read: put it back (link fails if a third
      // contender already created one, which is then the holder).
      try {
        linkSync(aside, path);
      } catch {
        // Someone holds the path again; either way the lock is held.
      }
      unlinkSafe(aside);
      continue;
    }
    unlinkSafe(aside);
  }
  const last = readHolder(path)?.holder;
  throw new RefusedError(`could not take the lock for ${options.organization} (${options.target})${last ? `: ${describe(last)}` : ''}`, 'lock', [`lock file: ${path}`]);
}

/**
 * Runs by different users on one jump host must see each other's locks, so the default folder in
 * the shared temp dir is world-writable with the sticky bit (like /tmp: only a file's owner may
 * remove it).
 */
function ensureSharedDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: false, mode: 0o1777 });
    chmodSync(dir, 0o1777); // mkdir's mode is filtered by the umask
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else if (code !== 'EEXIST') throw error;
  }
}

function unlinkSafe(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Removes the lock only if it is still ours (a takeover could have replaced it). */
export function releaseLock(path: string, token: string): void {
  const current = readHolder(path);
  if (current?.holder?.token === token) unlinkSafe(path);
}

/** For tests and tools: write a lock as if another process held it. */
export function writeLockFile(path: string, holder: LockHolder): void {
  writeFileSync(path, JSON.stringify(holder, null, 2));
}
