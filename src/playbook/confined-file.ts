/**
 * Reading a file the playbook names (`${file:}`, smtp-auth/usage `report:`) without trusting the
 * path: it must resolve (symlinks followed) inside the playbook's folder or a folder the playbook
 * names in `fileRoots`, be a regular file (not a FIFO, device, socket or folder), and be no larger
 * than the cap. The size is checked on the opened descriptor (fstat) and at most cap + 1 bytes are
 * read, so /dev/zero, a FIFO or a file that grows while read cannot hang the run or fill memory.
 * Messages never quote the file's content.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { readRegularFile, type FileReadFailure } from '../files/regular-file.js';

export type ConfinedReadFailure = FileReadFailure;
export type ConfinedRead = { ok: true; bytes: Buffer; realPath: string } | ConfinedReadFailure;
export type ConfinedText = { ok: true; text: string; realPath: string } | ConfinedReadFailure;

export interface ConfineOptions {
  /** Absolute folders the file must resolve inside (after symlinks). Empty: anywhere. */
  roots: readonly string[];
  /** Largest accepted size in bytes. */
  maxBytes: number;
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) out.push(await realpath(root).catch(() => path.resolve(root)));
  return out;
}

/**
 * Where `file` resolves (symlinks followed), or why it is outside the roots. With mayBeMissing, a
 * file that does not exist yet (one the run creates, e.g. `history:`) is judged by its folder's real path.
 */
export async function confinedPath(
  file: string,
  roots: readonly string[],
  options: { mayBeMissing?: boolean } = {},
): Promise<{ ok: true; realPath: string; exists: boolean } | ConfinedReadFailure> {
  let real: string;
  let exists = true;
  try {
    real = await realpath(file);
  } catch (error) {
    if (!options.mayBeMissing || (error as NodeJS.ErrnoException).code !== 'ENOENT') return pathFailure(error);
    exists = false;
    try {
      real = path.join(await realpath(path.dirname(file)), path.basename(file));
    } catch (parentError) {
      return pathFailure(parentError);
    }
  }
  if (roots.length > 0) {
    const resolvedRoots = await realRoots(roots);
    if (!resolvedRoots.some((root) => inside(root, real))) {
      return {
        ok: false,
        reason: 'outside-root',
        detail: `it resolves to ${real}, outside the playbook's folder${resolvedRoots.length > 1 ? ' and its fileRoots' : ''}`,
      };
    }
  }
  return { ok: true, realPath: real, exists };
}

function pathFailure(error: unknown): ConfinedReadFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', detail: 'no such file' };
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: 'unreadable', detail: 'permission denied' };
  if (code === 'ELOOP') return { ok: false, reason: 'unreadable', detail: 'too many levels of symbolic links' };
  return { ok: false, reason: 'unreadable', detail: code ?? 'cannot be read' };
}

/**
 * Opens the file and checks it; with `read: false` only checks (validate), reading nothing.
 */
export async function readConfinedFile(file: string, options: ConfineOptions & { read?: boolean }): Promise<ConfinedRead> {
  const where = await confinedPath(file, options.roots);
  if (!where.ok) return where;
  // O_NOFOLLOW: the path we checked is the one we open (a symlink swapped in since realpath is refused).
  const read = await readRegularFile(where.realPath, { maxBytes: options.maxBytes, follow: false, read: options.read });
  return read.ok ? { ok: true, bytes: read.bytes, realPath: where.realPath } : read;
}

/** readConfinedFile, decoded as strict UTF-8. */
export async function readConfinedText(file: string, options: ConfineOptions): Promise<ConfinedText> {
  const read = await readConfinedFile(file, options);
  if (!read.ok) return read;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(read.bytes), realPath: read.realPath };
  } catch {
    return { ok: false, reason: 'not-utf8', detail: 'the file is not valid UTF-8' };
  }
}

/**
 * readConfinedText as a reader that throws like fs does (error.code 'ENOENT' for a missing file,
 * else the ConfinedReadFailure reason; the message is the detail), for LoadOptions.readFile.
 */
export async function readConfinedTextOrThrow(file: string, options: ConfineOptions): Promise<string> {
  const read = await readConfinedText(file, options);
  if (read.ok) return read.text;
  throw Object.assign(new Error(read.detail), { code: read.reason === 'missing' ? 'ENOENT' : read.reason });
}
