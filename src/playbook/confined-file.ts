/**
 * Reading a file the playbook names (`${file:}`, smtp-auth/usage `report:`) without trusting the
 * path: it must resolve (symlinks followed) inside the playbook's folder or a folder the playbook
 * names in `fileRoots`, be a regular file (not a FIFO, device, socket or folder), and be no larger
 * than the cap. The size is checked on the opened descriptor (fstat) and at most cap + 1 bytes are
 * read, so /dev/zero, a FIFO or a file that grows while read cannot hang the run or fill memory.
 * Messages never quote the file's content.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';

export type ConfinedReadFailure = {
  ok: false;
  reason: 'missing' | 'outside-root' | 'not-regular' | 'too-large' | 'not-utf8' | 'unreadable';
  /** Says what is wrong with the file, never what is in it. */
  detail: string;
};
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

function describeKind(stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

function errnoDetail(error: unknown): ConfinedReadFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', detail: 'no such file' };
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, reason: 'unreadable', detail: 'permission denied' };
  if (code === 'ELOOP') return { ok: false, reason: 'unreadable', detail: 'too many levels of symbolic links' };
  if (code === 'EISDIR') return { ok: false, reason: 'not-regular', detail: 'is a folder, not a file' };
  return { ok: false, reason: 'unreadable', detail: code ?? 'cannot be read' };
}

/**
 * Opens the file and checks it; with `read: false` only checks (validate), reading nothing.
 */
export async function readConfinedFile(file: string, options: ConfineOptions & { read?: boolean }): Promise<ConfinedRead> {
  let real: string;
  try {
    real = await realpath(file);
  } catch (error) {
    return errnoDetail(error);
  }
  if (options.roots.length > 0) {
    const roots = await realRoots(options.roots);
    if (!roots.some((root) => inside(root, real))) {
      return {
        ok: false,
        reason: 'outside-root',
        detail: `it resolves to ${real}, outside the playbook's folder${roots.length > 1 ? ' and its fileRoots' : ''}`,
      };
    }
  }
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer; O_NOFOLLOW: the path we
    // checked is the one we open (a symlink swapped in since realpath is refused).
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    return errnoDetail(error);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return { ok: false, reason: 'not-regular', detail: `it is ${describeKind(stats)}, not a regular file` };
    if (stats.size > options.maxBytes) return tooLarge(stats.size, options.maxBytes);
    if (options.read === false) return { ok: true, bytes: Buffer.alloc(0), realPath: real };
    // Read until end of file but never more than cap + 1 bytes, whatever fstat said (/proc files
    // say 0): a file that grows while read is still refused, never cut short.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, options.maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > options.maxBytes) return tooLarge(length, options.maxBytes, true);
    }
    return { ok: true, bytes: Buffer.concat(chunks, length), realPath: real };
  } catch (error) {
    return errnoDetail(error);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function tooLarge(size: number, max: number, atLeast = false): ConfinedReadFailure {
  return { ok: false, reason: 'too-large', detail: `${atLeast ? 'more than ' : ''}${atLeast ? max : size} bytes is over the ${max}-byte limit` };
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
