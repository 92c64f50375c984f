/**
 * --keep-runs N: after a run, delete old run directories of the same playbook, never the journal a
 * rollback still needs (pruneRuns says the rule).
 * A run directory is `<UTC timestamp>-<playbook name>` (e.g. 20261123T101500Z-smtp-auth-disable,
 * optionally with a numeric suffix when two runs start in the same second). Only directories whose
 * name matches that shape exactly are ever touched, so a stray folder in --runs-dir is safe, and a
 * playbook named "smtp-auth" never prunes the runs of "smtp-auth-disable".
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { readJournal } from './journal.js';
import { join, resolve } from 'node:path';

const TIMESTAMP = '(\\d{8}T\\d{6}(?:\\d{3})?Z)';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface RunDirectory {
  name: string;
  path: string;
  timestamp: string;
}

/** The playbook's run directories in runsDir, newest first. A missing runsDir has none. */
export async function listRunDirectories(runsDir: string, playbookName: string): Promise<RunDirectory[]> {
  const shape = new RegExp(`^${TIMESTAMP}-${escapeRegExp(playbookName)}(?:-(\\d+))?$`);
  let entries;
  try {
    entries = await readdir(runsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const runs: (RunDirectory & { seq: number })[] = [];
  for (const entry of entries) {
    const match = entry.isDirectory() ? shape.exec(entry.name) : null;
    if (match) runs.push({ name: entry.name, path: join(runsDir, entry.name), timestamp: match[1]!, seq: Number(match[2] ?? 0) });
  }
  runs.sort((a, b) => (a.timestamp === b.timestamp ? b.seq - a.seq : a.timestamp < b.timestamp ? 1 : -1));
  return runs.map(({ name, path, timestamp }) => ({ name, path, timestamp }));
}

export interface PruneResult {
  kept: string[];
  deleted: string[];
}

/**
 * Did the run write to the tenant (or may it have)? Its journal has a "before" record: the record is on
 * disk before the write starts, so a run without one never wrote. No journal: never wrote. A journal
 * that cannot be read counts as writing (fail closed: it may be the only record of a write).
 */
export function runWroteToTenant(runPath: string): boolean {
  const file = join(runPath, 'journal.jsonl');
  if (!existsSync(file)) return false;
  try {
    return readJournal(file).some((r) => r.type === 'before');
  } catch {
    return true;
  }
}

/**
 * --keep-runs N. A run that wrote to the tenant is deleted only when N newer writing runs exist (its
 * journal is what rollback needs), so the newest writing run is always kept. Runs that wrote nothing
 * (no-op, refused, failed before writing) fill the remaining places, newest first, and go first.
 * `protect` (the run that just finished) is never deleted, even if clocks disagree about what is newest.
 */
export async function pruneRuns(runsDir: string, playbookName: string, keep: number, protect?: string): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError('keep must be a whole number of at least 1');
  const runs = await listRunDirectories(runsDir, playbookName);
  const protectedPath = protect ? resolve(protect) : undefined;
  const writing = runs.filter((run) => runWroteToTenant(run.path));
  const keepSet = new Set(writing.slice(0, keep).map((run) => run.path));
  for (const run of runs) {
    if (keepSet.size >= keep) break;
    keepSet.add(run.path);
  }
  const kept: string[] = [];
  const deleted: string[] = [];
  for (const run of runs) {
    if (keepSet.has(run.path) || resolve(run.path) === protectedPath) {
      kept.push(run.path);
      continue;
    }
    await rm(run.path, { recursive: true, force: true });
    deleted.push(run.path);
  }
  return { kept, deleted };
}
