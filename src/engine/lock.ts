/**
 * One run per tenant at a time. The lock is a file created with O_EXCL (so exactly one process wins),
 * keyed by the real tenant (lockKey): against Exchange Online the organization as read after sign-in
 * (so a playbook naming it by domain and one naming it by tenant id meet), a simulated tenant by its
 * state file's device and inode (so symlinks and hard links meet), holding who took it. The default
 * folder is a per-user state folder (lockDir), not TMPDIR. A lock left by a dead process on this host is
 * taken over atomically: the stale file is renamed away (only one contender's rename succeeds), and
 * the contender checks it moved the file it judged stale before creating its own.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { RefusedError } from '../errors.js';
import { errnoWords, fileError, makeFolders, openOutputFileSync, readRegularFileSync, writeAllSync, type FileRole } from '../files/regular-file.js';
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
  /**
   * Against Exchange: the tenant as the service names it after sign-in (tenantIdentity in
   * run-apply.ts), the same whichever way the playbook names it. Required for an `exchange` target.
   */
  tenant?: string;
  command: string;
  /** Default: lockDir(env). */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Injectable for tests. */
  isAlive?: (pid: number) => boolean;
  host?: string;
  pid?: number;
}

/**
 * Where locks live: EXO_PLAYBOOK_LOCK_DIR, else a per-user state folder that does not move with
 * TMPDIR (two runs with different TMPDIRs must meet): %LOCALAPPDATA%\exo-playbook\locks on Windows,
 * else $XDG_STATE_HOME/exo-playbook/locks or ~/.local/state/exo-playbook/locks. Accounts that share
 * a jump host and must see each other's runs set EXO_PLAYBOOK_LOCK_DIR to one shared folder.
 */
export function lockDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.EXO_PLAYBOOK_LOCK_DIR) return env.EXO_PLAYBOOK_LOCK_DIR;
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'exo-playbook', 'locks');
  // The XDG spec: a relative XDG_STATE_HOME is invalid and ignored.
  const state = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(state, 'exo-playbook', 'locks');
}

export function lockPath(dir: string, organization: string, target: string, tenant?: string): string {
  const identity = lockKey(organization, target, tenant);
  const label = identity.startsWith('sim:') ? 'sim' : (tenant ?? organization).toLowerCase().replace(/[^a-z0-9.-]/g, '_').slice(0, 64);
  return join(dir, `${label}-${sha256(identity).slice(0, 24)}.lock`);
}

/**
 * The real tenant behind a run. A simulated tenant is its state file's device and inode (symlinks,
 * hard links, `..` and other spellings of the path all name one tenant), whatever organization the
 * playbook names; a state file that does not exist yet keeps its absolute path. Against Exchange,
 * the tenant as read after sign-in (`tenant`), lower-cased; without it, organization + target.
 */
export function lockKey(organization: string, target: string, tenant?: string): string {
  if (target.startsWith('sim:')) {
    const file = target.slice('sim:'.length);
    try {
      const stats = statSync(file);
      return `sim:${stats.dev}:${stats.ino}`;
    } catch {
      return `sim:${resolve(file)}`;
    }
  }
  if (tenant) return `tenant:${tenant.toLowerCase()}`;
  return `${organization.toLowerCase()}\n${target}`;
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

/**
 * The lock file's holder; null when there is no lock file. A lock path that is not a small regular
 * file (a FIFO or a symlink someone put there) is never opened for long nor followed: it counts as a
 * held lock whose holder cannot be read.
 */
function readHolder(path: string): { text: string; holder: LockHolder | null } | null {
  const read = readRegularFileSync(path, { maxBytes: 64 * 1024, follow: false });
  if (!read.ok) return read.reason === 'missing' ? null : { text: `(${read.detail})`, holder: null };
  const text = read.bytes.toString('utf8');
  try {
    return { text, holder: JSON.parse(text) as LockHolder };
  } catch {
    return { text, holder: null };
  }
}

function tryCreate(path: string, holder: LockHolder, role: FileRole): boolean {
  let fd: number;
  try {
    fd = openOutputFileSync(path, { ...role, mode: 'exclusive', follow: false, permissions: 0o644 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeAllSync(fd, JSON.stringify(holder, null, 2), path, role);
    try {
      fsyncSync(fd);
    } catch (error) {
      throw fileError('write', path, role, errnoWords(error));
    }
  } catch (error) {
    closeSync(fd);
    unlinkSafe(path);
    throw error;
  }
  closeSync(fd);
  return true;
}

/** Which setting named the lock folder, for messages. */
function lockRole(env: NodeJS.ProcessEnv | undefined, explicit: boolean): FileRole {
  const fromEnv = !explicit && Boolean((env ?? process.env).EXO_PLAYBOOK_LOCK_DIR);
  return {
    what: 'the lock folder',
    option: fromEnv ? 'EXO_PLAYBOOK_LOCK_DIR' : explicit ? undefined : 'the default; EXO_PLAYBOOK_LOCK_DIR overrides it',
    hint: 'set EXO_PLAYBOOK_LOCK_DIR to a folder this account can write to (shared by every account that runs against the same tenants)',
  };
}

export function acquireTenantLock(options: LockOptions): TenantLock {
  // Against Exchange the key is the tenant the session signed in to: without it, two names of one
  // tenant would take two locks, so no lock is taken at all (and nothing is written).
  if (!options.target.startsWith('sim:') && !options.tenant) {
    throw new RefusedError(`the tenant behind ${options.organization} is not known yet (it is read after sign-in), so it cannot be locked`, 'lock');
  }
  const dir = options.dir ?? lockDir(options.env);
  const role = lockRole(options.env, options.dir !== undefined);
  ensureLockDir(dir, role, options.dir !== undefined || Boolean((options.env ?? process.env).EXO_PLAYBOOK_LOCK_DIR));
  const path = lockPath(dir, options.organization, options.target, options.tenant);
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
    if (tryCreate(path, holder, { ...role, what: 'a lock file in the lock folder' })) return { path, holder, release: () => releaseLock(path, holder.token) };
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
 * Makes the lock folder when missing (one level at a time: never a recursive mkdir, which loops under
 * /proc). The per-user default is private (0700). A folder named by EXO_PLAYBOOK_LOCK_DIR is meant to
 * be shared by the accounts of a jump host, so when this run creates it, it is world-writable with
 * the sticky bit (like /tmp: only a file's owner may remove it). Errors name the folder and setting.
 */
function ensureLockDir(dir: string, role: FileRole, shared: boolean): void {
  const absolute = resolve(dir);
  makeFolders(dirname(absolute), role, 0o700, dir);
  try {
    mkdirSync(absolute, shared ? 0o1777 : 0o700);
    if (shared) chmodSync(absolute, 0o1777); // mkdir's mode is filtered by the umask
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw fileError('create', dir, role, errnoWords(error));
    if (!statSync(absolute).isDirectory()) throw fileError('create', dir, role, `${absolute} is ${lstatSync(absolute).isFile() ? 'a file' : 'something else'}, not a folder`);
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
