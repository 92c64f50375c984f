/**
 * Playbooks as they were in git history, read with `git show <rev>:<path>` (never a checkout: the
 * working tree is not touched). A revision's side reads the allowlists it references at the same
 * revision, so an allowlist edit shows up even when the playbook file itself did not change.
 */
import { readRegularFile } from '../files/regular-file.js';
import path from 'node:path';
import { execa } from 'execa';
import { InputError } from '../errors.js';
import { readConfinedTextOrThrow } from '../playbook/confined-file.js';
import { MAX_SOURCE_BYTES } from '../playbook/source.js';

export interface GitRange {
  /** Revision of the old side. */
  old: string;
  /** Revision of the new side; null is the working tree. */
  new: string | null;
}

/** `a..b`, `a...b` (from the merge base of a and b, as a pull request shows it), or `a` (against the working tree). */
export function parseRange(spec: string): { old: string; new: string | null; mergeBase: boolean } {
  const three = /^(.+?)\.\.\.(.+)$/.exec(spec);
  if (three) return { old: three[1]!, new: three[2]!, mergeBase: true };
  const two = /^(.*?)\.\.(.*)$/.exec(spec);
  if (two) return { old: two[1] || 'HEAD', new: two[2] || null, mergeBase: false };
  return { old: spec, new: null, mergeBase: false };
}

export class GitRepo {
  private constructor(readonly root: string) {}

  static async open(cwd: string): Promise<GitRepo> {
    const result = await execa('git', ['rev-parse', '--show-toplevel'], { cwd, reject: false });
    if (result.exitCode !== 0) throw new InputError(`diff --git: ${cwd} is not inside a git repository`, undefined, 'run it from the repository, or compare two files: exo-playbook diff <old> <new>');
    return new GitRepo(result.stdout.trim());
  }

  private git(args: string[], options: { stripFinalNewline?: boolean } = {}) {
    return execa('git', args, { cwd: this.root, reject: false, stripFinalNewline: options.stripFinalNewline ?? true, maxBuffer: 64 * 1024 * 1024 });
  }

  /** The commit a revision names; a typo is the user's error, said plainly. */
  async verify(rev: string): Promise<string> {
    if (rev.startsWith('-')) throw new InputError(`diff --git: '${rev}' is not a revision`);
    const result = await this.git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    if (result.exitCode !== 0) throw new InputError(`diff --git: unknown revision '${rev}'`, undefined, 'name a commit, branch or tag, e.g. HEAD~1 or origin/main');
    return result.stdout.trim();
  }

  async resolveRange(spec: string): Promise<GitRange> {
    const parsed = parseRange(spec);
    const newRev = parsed.new === null ? null : await this.verify(parsed.new);
    let oldRev = await this.verify(parsed.old);
    if (parsed.mergeBase && newRev) {
      const base = await this.git(['merge-base', oldRev, newRev]);
      if (base.exitCode !== 0) throw new InputError(`diff --git: ${spec} has no merge base`);
      oldRev = base.stdout.trim();
    }
    return { old: oldRev, new: newRev };
  }

  /** Repository-relative, forward slashes. */
  relative(absolute: string): string {
    return path.relative(this.root, absolute).split(path.sep).join('/');
  }

  /** The file's text at `rev` (null: the working tree), or undefined when it does not exist there. */
  async read(rev: string | null, absolute: string): Promise<string | undefined> {
    if (rev === null) {
      const read = await readRegularFile(absolute, { maxBytes: MAX_SOURCE_BYTES });
      if (read.ok) return read.bytes.toString('utf8');
      if (read.reason === 'missing') return undefined;
      throw Object.assign(new Error(read.detail), { code: read.reason });
    }
    const result = await this.git(['show', `${rev}:${this.relative(absolute)}`], { stripFinalNewline: false });
    return result.exitCode === 0 ? result.stdout : undefined;
  }

  /** A readFile for the loader at `rev`: a missing file fails like a missing file on disk. */
  reader(rev: string | null): (absolute: string, roots?: readonly string[]) => Promise<string> {
    return async (absolute, roots) => {
      // The working tree is the file system: read it as the runner would (inside the roots, capped,
      // a symlink out refused). A revision's blob is a symlink's own text, never what it points to.
      if (rev === null && roots) return readConfinedTextOrThrow(absolute, { roots, maxBytes: MAX_SOURCE_BYTES });
      const text = await this.read(rev, absolute);
      if (text === undefined) {
        const error = new Error(`no such file at ${rev ?? 'the working tree'}: ${this.relative(absolute)}`) as NodeJS.ErrnoException;
        error.code = 'ENOENT';
        throw error;
      }
      return text;
    };
  }

  /** Absolute paths of files at `rev` (null: tracked and untracked, not ignored, in the working tree). */
  async files(rev: string | null, under: string[]): Promise<string[]> {
    const pathspec = under.map((p) => this.relative(p) || '.');
    const result =
      rev === null
        ? await this.git(['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', ...pathspec])
        : await this.git(['ls-tree', '-r', '--name-only', '-z', '--full-tree', rev, ...pathspec]);
    if (result.exitCode !== 0) throw new InputError(`diff --git: cannot list files: ${result.stderr.trim()}`);
    return result.stdout
      .split('\0')
      .filter(Boolean)
      .map((f) => path.join(this.root, f));
  }
}

const PLAYBOOK_MARK = /^apiVersion:\s*["']?exo-playbook\/v1/m;

/** Playbooks (YAML files declaring apiVersion exo-playbook/v1) at either side, sorted. */
export async function playbooksInRange(repo: GitRepo, range: GitRange, under: string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const rev of [range.old, range.new]) {
    for (const file of await repo.files(rev, under)) {
      if (!/\.ya?ml$/i.test(file) || found.has(file)) continue;
      const text = await repo.read(rev, file);
      if (text !== undefined && PLAYBOOK_MARK.test(text)) found.add(file);
    }
  }
  return [...found].sort();
}
