/**
 * Run directories: runs/<UTC time>-<playbook name>/ holding plan.json, journal.jsonl and summary.md.
 * Names sort by time; two runs in the same second get a numeric suffix rather than sharing a journal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function runStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function createRunDir(runsDir: string, name: string, at: Date): string {
  const base = resolve(runsDir);
  mkdirSync(base, { recursive: true });
  const stem = `${runStamp(at)}-${name}`;
  for (let n = 1; ; n += 1) {
    const dir = join(base, n === 1 ? stem : `${stem}-${n}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

export const RUN_FILES = { plan: 'plan.json', journal: 'journal.jsonl', summary: 'summary.md' } as const;

export function writeRunFile(runDir: string, file: string, content: string): void {
  writeFileSync(join(runDir, file), content, { mode: 0o600 });
}
