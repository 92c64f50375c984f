/**
 * What a test run may not leave behind, and how to find what it did: the places a test could write
 * outside its own folders (the user's npm cache, ~/.cache, ~/.config, ~/.local, the default lock
 * folders, the temp folder, the checkout), a snapshot of them, a comparison, and the processes still
 * running with the run's folder in their environment. Used by test/global-setup.ts before and after
 * the whole run; test/support/hermetic.test.ts shows that each kind of leak is named.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** A test folder's name in the temp folder: what test/ makes with mkdtemp (`exo-…`) and what names the product. */
const TEST_FOLDER = /^exo[-_.]|exo-playbook/i;
/** The folder a run makes for itself (removed by its own teardown; another run's may exist beside it). */
export const RUN_FOLDER_PREFIX = 'exo-test-run-';
/** Marks an entry of a place where only new entries count. */
const ADDED_ONLY = ' (new entries only)';

export interface RealPlaces {
  /** The user's home, npm cache and temp folder as they were before the run changed the environment. */
  home: string;
  npmCache: string;
  tmp: string;
  /** XDG_* of the user (may be unset: the defaults under home are watched then). */
  xdgCache?: string;
  xdgState?: string;
  xdgConfig?: string;
  checkout: string;
}

interface Place {
  label: string;
  path: string;
  /** How deep to list (1: the entries themselves). */
  depth: number;
  /** Entry names to leave out at the top (npm's own log of the `npm test` command itself). */
  skip?: string[];
  /** Only entries whose name matches (the shared temp folder: only test folders count). */
  only?: RegExp;
  /** Compare names only, not sizes and times (a folder others write in too). */
  namesOnly?: boolean;
  /** Only new entries count (the shared temp folder: other programs remove their own files there). */
  addedOnly?: boolean;
}

/**
 * The places a run must leave as it found them. The product's own folders, npm's npx folder, the lock
 * folders (today's default and the per-user state folder) and the temp folder's test folders: every
 * file with its size and time. The rest of the user's caches, config and state: names only, two
 * levels (a program of the user's own that runs beside the tests, pwsh or npm, may rewrite its files
 * there; a new folder or file is what a leaking test leaves).
 */
export function watchedPlaces(real: RealPlaces): Place[] {
  const cache = real.xdgCache || join(real.home, '.cache');
  const state = real.xdgState || join(real.home, '.local', 'state');
  const config = real.xdgConfig || join(real.home, '.config');
  const npx = join(real.npmCache, '_npx');
  const own = (path: string) => ({ path: join(path, 'exo-playbook'), depth: 4 });
  return [
    { label: 'home', path: real.home, depth: 1, namesOnly: true },
    // _logs, _update-notifier-last-checked: the `npm test` that started the run writes them, not a test.
    { label: 'npm cache', path: real.npmCache, depth: 1, skip: ['_logs', '_update-notifier-last-checked', '_npx'], namesOnly: true },
    { label: 'npx folder', path: npx, depth: 3 },
    { label: 'cache folder', path: cache, depth: 2, skip: ['exo-playbook'], namesOnly: true },
    { label: 'cache folder', ...own(cache) },
    { label: 'state folder', path: state, depth: 2, skip: ['exo-playbook'], namesOnly: true },
    { label: 'state folder', ...own(state) },
    { label: 'config folder', path: config, depth: 2, skip: ['exo-playbook'], namesOnly: true },
    { label: 'config folder', ...own(config) },
    { label: 'lock folder', path: join(real.tmp, 'exo-playbook-locks'), depth: 2 },
    { label: 'temp folder', path: real.tmp, depth: 1, only: TEST_FOLDER, skip: ['exo-playbook-locks'], namesOnly: true, addedOnly: true },
  ];
}

export interface Snapshot {
  entries: Map<string, string>;
  git: string[];
}

function signature(stats: Stats, namesOnly: boolean): string {
  if (namesOnly) return stats.isDirectory() ? 'folder' : 'file';
  if (stats.isDirectory()) return 'folder';
  if (stats.isSymbolicLink()) return 'link';
  return `file ${stats.size} bytes, modified ${stats.mtime.toISOString()}`;
}

function list(place: Place, into: Map<string, string>): void {
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // absent or unreadable: nothing there to compare
    }
    for (const name of names) {
      if (depth === 1 && (place.skip?.includes(name) || (place.only && !place.only.test(name)) || name.startsWith(RUN_FOLDER_PREFIX))) continue;
      const path = join(dir, name);
      let stats: Stats;
      try {
        stats = lstatSync(path);
      } catch {
        continue; // removed while listing
      }
      into.set(path, `${place.label}: ${signature(stats, place.namesOnly === true)}${place.addedOnly ? ADDED_ONLY : ''}`);
      if (stats.isDirectory() && depth < place.depth) walk(path, depth + 1);
    }
  };
  walk(place.path, 1);
}

/** `git status --porcelain --ignored` of the checkout: new files, changed files, new ignored folders. */
export function gitStatus(checkout: string): string[] {
  if (!existsSync(join(checkout, '.git'))) return [];
  const out = execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: checkout, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } });
  return out.split('\n').filter(Boolean);
}

export function snapshot(real: RealPlaces): Snapshot {
  const entries = new Map<string, string>();
  for (const place of watchedPlaces(real)) list(place, entries);
  return { entries, git: gitStatus(real.checkout) };
}

/** What changed between two snapshots, one line each ("added …", "changed …", "removed …"); empty when nothing. */
export function compare(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [path, what] of after.entries) {
    const was = before.entries.get(path);
    if (was === undefined) lines.push(`added ${path} (${what.replace(ADDED_ONLY, '')})`);
    else if (was !== what) lines.push(`changed ${path} (${was} → ${what.replace(/^[^:]*: /, '')})`);
  }
  for (const [path, what] of before.entries) if (!after.entries.has(path) && !what.endsWith(ADDED_ONLY)) lines.push(`removed ${path} (${what})`);
  const gitBefore = new Set(before.git);
  for (const line of after.git) if (!gitBefore.has(line)) lines.push(`checkout: git status now shows \`${line}\``);
  const gitAfter = new Set(after.git);
  for (const line of before.git) if (!gitAfter.has(line)) lines.push(`checkout: git status no longer shows \`${line}\``);
  return lines;
}

/** Test folders (`exo-…`) a run's tests left in its own temp folder: a test that makes a folder removes it. */
export function leftTestFolders(runTmp: string): string[] {
  try {
    return readdirSync(runTmp).filter((name) => TEST_FOLDER.test(name)).map((name) => join(runTmp, name));
  } catch {
    return [];
  }
}

export interface RunProcess {
  pid: number;
  command: string;
}

/**
 * Processes (Linux: /proc) whose environment names `runDir`: everything a test started inherits the
 * run's HOME and TMPDIR, so what is still running after the run is a process a test did not end.
 * `keep` says which to leave out (this process, vitest's own workers).
 */
export function runProcesses(runDir: string, keep: (p: RunProcess) => boolean): RunProcess[] {
  if (process.platform !== 'linux' || !existsSync('/proc/self/environ')) return [];
  const found: RunProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (!environ.split('\0').some((v) => v.includes(runDir))) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
      if (command === '') continue; // a zombie: already ended, waiting for its parent to read its status
      const p = { pid, command };
      if (!keep(p)) found.push(p);
    } catch {
      // ended while looking, or not ours to read
    }
  }
  return found;
}

/**
 * PowerShell processes (pwsh, or the dotnet running pwsh.dll behind the launcher) whose command line
 * names a file of `checkout` (host.ps1): the ones a test started with an environment of its own that
 * does not name the run's folder. Compared by process id before and after the run.
 */
export function checkoutPowerShell(checkout: string): RunProcess[] {
  if (process.platform !== 'linux' || !existsSync('/proc/self/cmdline')) return [];
  const found: RunProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const command = readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
      if (/(^|\/)(pwsh|dotnet)\b|pwsh\.dll/.test(command) && command.includes(`${checkout}/`)) found.push({ pid: Number(name), command });
    } catch {
      // ended while looking
    }
  }
  return found;
}
