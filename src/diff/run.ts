/**
 * The two forms of `exo-playbook diff`: two files, or playbooks across git revisions.
 */
import { readRegularFile } from '../files/regular-file.js';
import path from 'node:path';
import { InputError } from '../errors.js';
import { PlaybookInvalid } from '../playbook/problems.js';
import { readConfinedTextOrThrow } from '../playbook/confined-file.js';
import { MAX_SOURCE_BYTES } from '../playbook/source.js';
import { comparePlaybooks, type DiffSide } from './compare.js';
import { GitRepo, playbooksInRange, type GitRange } from './git.js';
import { loadSide } from './load-side.js';
import type { DiffReport, PlaybookDiff } from './types.js';

export function toReport(diffs: PlaybookDiff[]): DiffReport {
  return {
    formatVersion: 1,
    diffs,
    changed: diffs.some((d) => d.changes.length > 0),
    sensitive: diffs.some((d) => d.changes.some((c) => c.sensitive)),
  };
}

async function readPlaybookFile(file: string): Promise<string> {
  const read = await readRegularFile(file, { maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) {
    throw new InputError(`${file}: ${read.reason === 'missing' ? 'no such playbook file' : read.detail}`, { file, line: 1, col: 1 }, 'diff takes two playbook files, or --git <rev>[..<rev>] [paths]');
  }
  return read.bytes.toString('utf8');
}

/** `exo-playbook diff <old> <new>`: each side's allowlists are read from beside that side's file. */
export async function diffFiles(oldFile: string, newFile: string): Promise<DiffReport> {
  // From disk, an allowlist is read as the runner reads it: inside the playbook's roots, capped.
  const fsRead = (absolute: string, roots: readonly string[]) => readConfinedTextOrThrow(absolute, { roots, maxBytes: MAX_SOURCE_BYTES });
  const [a, b] = await Promise.all(
    [oldFile, newFile].map(async (file) => loadSide({ text: await readPlaybookFile(file), file, version: { file, label: file }, readFile: fsRead })),
  );
  return toReport([comparePlaybooks(a!, b!)]);
}

async function sideAt(repo: GitRepo, rev: string | null, label: string, absolute: string): Promise<DiffSide | null> {
  const text = await repo.read(rev, absolute);
  if (text === undefined) return null;
  // Relative to the process (the loader resolves ${file:} from it), so messages stay short.
  const file = path.relative(process.cwd(), absolute) || absolute;
  try {
    return await loadSide({ text, file, version: { file: repo.relative(absolute), label }, readFile: repo.reader(rev) });
  } catch (error) {
    // Say which revision was invalid: the line numbers are that revision's.
    if (error instanceof PlaybookInvalid && rev !== null) throw new PlaybookInvalid(error.problems.map((p) => ({ ...p, message: `at ${label}: ${p.message}` })));
    if (error instanceof InputError && rev !== null) throw new InputError(`at ${label}: ${error.message}`, error.location, error.hint);
    throw error;
  }
}

/** `exo-playbook diff --git <rev>[..<rev>] [paths]`: every playbook under paths (default: the whole repository). */
export async function diffGit(spec: string, paths: string[], cwd: string): Promise<DiffReport> {
  const repo = await GitRepo.open(cwd);
  const range: GitRange = await repo.resolveRange(spec);
  const labels = { old: labelOf(spec, 'old'), new: range.new === null ? 'working tree' : labelOf(spec, 'new') };
  const under = paths.map((p) => path.resolve(cwd, p));
  const files = await playbooksInRange(repo, range, under);
  const diffs: PlaybookDiff[] = [];
  for (const file of files) {
    const sides = await unlessUnchangedAndInvalid(repo, range, file, () => Promise.all([sideAt(repo, range.old, labels.old, file), sideAt(repo, range.new, labels.new, file)]));
    if (sides && (sides[0] || sides[1])) diffs.push(comparePlaybooks(sides[0], sides[1]));
  }
  return toReport(diffs);
}

/**
 * A file that is invalid at both revisions with the same text (a fixture of bad playbooks, say) did
 * not change: skip it rather than fail the whole diff. An invalid file that changed is an error, and
 * so is one whose problem sits in a file it references (an allowlist) that changed.
 */
async function unlessUnchangedAndInvalid<T>(repo: GitRepo, range: GitRange, file: string, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    const involved = new Set([file]);
    if (error instanceof PlaybookInvalid) for (const problem of error.problems) involved.add(path.resolve(problem.location.file));
    for (const each of involved) {
      const [before, after] = await Promise.all([repo.read(range.old, each), repo.read(range.new, each)]);
      if (before === undefined || before !== after) throw error;
    }
    return undefined;
  }
}

function labelOf(spec: string, side: 'old' | 'new'): string {
  const parts = spec.split(/\.\.\.?/);
  if (parts.length === 1) return side === 'old' ? spec : 'working tree';
  return (side === 'old' ? parts[0] : parts[1]) || (side === 'old' ? 'HEAD' : 'working tree');
}
