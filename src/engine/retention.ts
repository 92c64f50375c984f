/**
 * --keep-runs N: after a run, delete all but the newest N run directories of the same playbook.
 * A run directory is `<UTC timestamp>-<playbook name>` (e.g. 20261123T101500Z-smtp-auth-disable,
 * optionally with a numeric suffix when two runs start in the same second). Only directories whose
 * name matches that shape exactly are ever touched, so a stray folder in --runs-dir is safe, and a
 * playbook named "smtp-auth" never prunes the runs of "smtp-auth-disable".
 */
import { readdir, rm } from 'node:fs/promises';
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
 * Delete all but the newest `keep` run directories of the playbook. `protect` (the run that just
 * finished) is never deleted, even if clocks disagree about what is newest.
 */
export async function pruneRuns(runsDir: string, playbookName: string, keep: number, protect?: string): Promise<PruneResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError('keep must be a whole number of at least 1');
  const runs = await listRunDirectories(runsDir, playbookName);
  const protectedPath = protect ? resolve(protect) : undefined;
  const kept: string[] = [];
  const deleted: string[] = [];
  for (const [index, run] of runs.entries()) {
    if (index < keep || resolve(run.path) === protectedPath) {
      kept.push(run.path);
      continue;
    }
    await rm(run.path, { recursive: true, force: true });
    deleted.push(run.path);
  }
  return { kept, deleted };
}
