/**
 * Run directories: runs/<UTC time>-<playbook name>/ holding plan.json, journal.jsonl and summary.md.
 * Names sort by time; two runs in the same second get a numeric suffix rather than sharing a journal.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { errnoWords, fileError, makeFolders, writeOutputFileSync, type FileRole } from '../files/regular-file.js';

const RUNS_ROLE: FileRole = { what: 'the runs folder', option: '--runs-dir', hint: 'point --runs-dir at a folder this account can write to' };

export function runStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Makes the runs folder (--runs-dir) now: a path that cannot be one (a file, /dev/full, under /proc,
 * not writable) is an InputError before the run signs in, not after it has read the tenant.
 */
export function prepareRunsDir(runsDir: string): void {
  makeFolders(resolve(runsDir), RUNS_ROLE);
}

export function createRunDir(runsDir: string, name: string, at: Date): string {
  const base = resolve(runsDir);
  makeFolders(base, RUNS_ROLE);
  const stem = `${runStamp(at)}-${name}`;
  for (let n = 1; ; n += 1) {
    const dir = join(base, n === 1 ? stem : `${stem}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError('create', dir, RUNS_ROLE, errnoWords(error));
    }
  }
}

export const RUN_FILES = { plan: 'plan.json', journal: 'journal.jsonl', summary: 'summary.md' } as const;

export function writeRunFile(runDir: string, file: string, content: string): void {
  writeOutputFileSync(join(runDir, file), content, { ...RUNS_ROLE, what: 'the run file' });
}
