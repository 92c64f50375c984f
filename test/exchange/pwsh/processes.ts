/**
 * Which PowerShell processes are alive, read from /proc (Linux): a process whose command line
 * mentions pwsh (the .NET tool launcher `pwsh`, or `dotnet …/pwsh.dll`) and whose environment or
 * command line holds a marker unique to the test (its temp folder). Zombies count as gone.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  cmdline: string[];
  environ: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

export function processInfo(pid: number): ProcessInfo | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // "pid (comm) S ppid ...": comm may contain spaces and parentheses; the state follows the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined;
  const cmdline = read(`/proc/${pid}/cmdline`);
  if (cmdline === undefined || cmdline === '') return undefined;
  return { pid, ppid: Number(rest[1]), cmdline: cmdline.split('\0').filter(Boolean), environ: read(`/proc/${pid}/environ`) ?? '' };
}

export function allProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => processInfo(Number(name)) ?? []);
}

export function isPowerShell(p: ProcessInfo): boolean {
  return p.cmdline.some((arg) => /(^|\/)pwsh(\.dll|\.exe)?$/.test(arg));
}

/** Live PowerShell processes that carry `marker` in their environment or command line. */
export function powershellWith(marker: string): ProcessInfo[] {
  return allProcesses().filter((p) => isPowerShell(p) && (p.environ.includes(marker) || p.cmdline.join(' ').includes(marker)));
}

/** Every live descendant of `pid` (children, grandchildren…). */
export function descendantsOf(pid: number): ProcessInfo[] {
  const all = allProcesses();
  const out: ProcessInfo[] = [];
  const parents = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        out.push(p);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * Polls until `check` returns an empty list or `limitMs` passes; returns the last list. The limit is
 * a ceiling for a loaded machine, not a measured time: a leak stays forever, far past it.
 */
export async function untilNone<T>(check: () => T[], limitMs = 120_000): Promise<T[]> {
  const end = Date.now() + limitMs;
  for (;;) {
    const left = check();
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls until `check` returns true (or throws after `limitMs`). */
export async function until(check: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
