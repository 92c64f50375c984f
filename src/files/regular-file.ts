/**
 * Every file exo-playbook reads or writes goes through here, so that no input can hang a run, fill
 * its memory or end in a stack trace:
 * - a file is opened once, O_NONBLOCK (opening a FIFO never waits for its other end) and, where a
 *   symlink is not wanted, O_NOFOLLOW; where the user legitimately passes a link (a playbook, a
 *   --plan), a link to a regular file is followed;
 * - the opened descriptor is fstat'ed: only a regular file is read or written (not a FIFO, device,
 *   socket or folder), and a file over the caller's limit is refused by its size before a byte is read;
 * - reading stops after limit + 1 bytes whatever fstat said (a file that grows while read, /proc);
 * - a folder is created one level at a time (Node's recursive mkdir never ends under /proc);
 * - a failed open, write or mkdir becomes an InputError (exit 1) naming the path and the option or
 *   setting it came from, in words (EACCES, ENOSPC, EROFS, ...), never a stack trace.
 * src/playbook/confined-file.ts adds the playbook's folder confinement on top of readRegularFile.
 */
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readSync, statSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

export type FileReadFailure = {
  ok: false;
  reason: 'missing' | 'outside-root' | 'not-regular' | 'too-large' | 'not-utf8' | 'unreadable';
  /** Says what is wrong with the file, never what is in it. */
  detail: string;
};
export type FileRead = { ok: true; bytes: Buffer } | FileReadFailure;

export interface RegularReadOptions {
  /** Largest accepted size in bytes. */
  maxBytes: number;
  /** Follow a symlink to a regular file (default true); false refuses a symlink (ELOOP). */
  follow?: boolean;
  /** false: only open and check the file, read nothing (validate). */
  read?: boolean;
}

/** Where a path came from, for messages: "the saved plan (--plan)", "the log file (--log-file)". */
export interface FileRole {
  /** e.g. "the saved plan". */
  what: string;
  /** The option or setting that named the path, e.g. "--plan", "EXO_PLAYBOOK_LOCK_DIR". */
  option?: string;
  hint?: string;
}

const MiB = 1024 * 1024;

/** "3 GiB", "64 MiB", "512 bytes": a limit as a person reads it. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes} bytes`;
}

type Kind = Pick<Stats, 'isDirectory' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>;

export function describeKind(stats: Kind): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** An fs error code in words. */
export function errnoWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or folder';
    case 'ENOTDIR':
      return 'a part of the path is not a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'it is a symbolic link (or too many levels of them)';
    case 'EISDIR':
      return 'it is a folder, not a file';
    case 'EEXIST':
      return 'it already exists';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENXIO':
      return 'it is a FIFO (named pipe) or device with nothing on the other end';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'EIO':
      return 'an input/output error';
    case 'EFBIG':
      return 'the file is too large';
    default:
      return code ?? (error instanceof Error ? error.message : String(error));
  }
}

function readFailure(error: unknown): FileReadFailure {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', detail: 'no such file' };
  if (code === 'EISDIR') return { ok: false, reason: 'not-regular', detail: 'it is a folder, not a regular file' };
  if (code === 'ENXIO') return { ok: false, reason: 'not-regular', detail: 'it is not a regular file' };
  return { ok: false, reason: 'unreadable', detail: errnoWords(error) };
}

function tooLarge(size: number, max: number, atLeast = false): FileReadFailure {
  return { ok: false, reason: 'too-large', detail: `${atLeast ? `more than ${max}` : size} bytes is over the ${max}-byte limit` };
}

function openFlags(follow: boolean | undefined): number {
  return constants.O_RDONLY | constants.O_NONBLOCK | (follow === false ? constants.O_NOFOLLOW : 0);
}

function checkOpened(stats: Stats, maxBytes: number): FileReadFailure | null {
  if (!stats.isFile()) return { ok: false, reason: 'not-regular', detail: `it is ${describeKind(stats)}, not a regular file` };
  if (stats.size > maxBytes) return tooLarge(stats.size, maxBytes);
  return null;
}

/**
 * Opens, checks and reads a regular file under the limit; never throws for what the file is. The
 * reads are synchronous underneath: once the descriptor is known to be a regular file, a read cannot
 * wait on anything, and one loop serves both (readRegularFileSync).
 */
export async function readRegularFile(file: string, options: RegularReadOptions): Promise<FileRead> {
  return readRegularFileSync(file, options);
}

/** Opens, checks and reads a regular file under the limit (the lock, the journal, the early start, and readRegularFile). */
export function readRegularFileSync(file: string, options: RegularReadOptions): FileRead {
  let fd: number;
  try {
    fd = openSync(file, openFlags(options.follow));
  } catch (error) {
    return readFailure(error);
  }
  try {
    const refused = checkOpened(fstatSync(fd), options.maxBytes);
    if (refused) return refused;
    if (options.read === false) return { ok: true, bytes: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1024 * 1024, options.maxBytes + 1 - length));
      const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > options.maxBytes) return tooLarge(length, options.maxBytes, true);
    }
    return { ok: true, bytes: Buffer.concat(chunks, length) };
  } catch (error) {
    return readFailure(error);
  } finally {
    closeSync(fd);
  }
}

function label(role: FileRole): string {
  return `${role.what}${role.option ? ` (${role.option})` : ''}`;
}

/** The InputError for a file that cannot be used as `role`. */
export function fileError(verb: 'read' | 'write' | 'create', file: string, role: FileRole, detail: string): InputError {
  return new InputError(`cannot ${verb} ${label(role)} ${file}: ${detail}`, undefined, role.hint);
}

function decode(bytes: Buffer, file: string, role: FileRole): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fileError('read', file, role, 'it is not valid UTF-8 text');
  }
}

/** Reads a file the user named as text, or throws a located InputError saying why it cannot. */
export async function readInputText(file: string, options: RegularReadOptions & FileRole): Promise<string> {
  const read = await readRegularFile(file, options);
  if (!read.ok) throw fileError('read', file, options, read.detail);
  return decode(read.bytes, file, options);
}

/** readInputText, synchronously. */
export function readInputTextSync(file: string, options: RegularReadOptions & FileRole): string {
  const read = readRegularFileSync(file, options);
  if (!read.ok) throw fileError('read', file, options, read.detail);
  return decode(read.bytes, file, options);
}

/**
 * Creates `dir` and its missing parents one level at a time, as `role`. Not mkdirSync({ recursive:
 * true }): its loop reads ENOENT as "the parent is missing", makes the parent and retries the child.
 * Under /proc, mkdir of /proc/nope says ENOENT although /proc exists (procfs creates nothing), the
 * parent "made" is /proc (EEXIST, taken as done), the child says ENOENT again: forever. Here a level
 * is tried once; a path part that is a file, or a folder that cannot be made, is an InputError.
 */
export function makeFolders(dir: string, role: FileRole, mode?: number, shownAs: string = dir): void {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    let stats: Stats | undefined;
    try {
      stats = statSync(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw fileError('create', shownAs, role, code === 'ENOTDIR' ? `a part of ${current} is a file, not a folder` : errnoWords(error));
    }
    if (stats) {
      if (!stats.isDirectory()) throw fileError('create', shownAs, role, `${current} is ${stats.isFile() ? 'a file' : describeKind(stats)}, not a folder`);
      break;
    }
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder, mode);
    } catch (error) {
      // Made by someone else meanwhile: fine when it is a folder.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && lstatSync(folder).isDirectory()) continue;
      throw fileError('create', shownAs, role, `${folder}: ${errnoWords(error)}`);
    }
  }
}

export type WriteMode = 'append' | 'truncate' | 'exclusive';

const WRITE_FLAGS: Record<WriteMode, number> = {
  append: constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND,
  truncate: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  exclusive: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
};

/**
 * Opens a file to write as `role` and returns its descriptor: O_NONBLOCK (a FIFO without a reader
 * fails at once, ENXIO, instead of waiting), and the descriptor must be a regular file (a FIFO with
 * a reader, /dev/full or a folder is refused before a byte is written). Exclusive: an existing file
 * throws with code EEXIST (the caller decides), every other failure is an InputError.
 */
export function openOutputFileSync(file: string, role: FileRole & { mode?: WriteMode; permissions?: number; follow?: boolean }): number {
  let fd: number;
  try {
    fd = openSync(file, WRITE_FLAGS[role.mode ?? 'truncate'] | constants.O_NONBLOCK | (role.follow === false ? constants.O_NOFOLLOW : 0), role.permissions ?? 0o600);
  } catch (error) {
    if (role.mode === 'exclusive' && (error as NodeJS.ErrnoException).code === 'EEXIST') throw error;
    throw fileError('write', file, role, errnoWords(error));
  }
  const stats = fstatSync(fd);
  if (!stats.isFile()) {
    closeSync(fd);
    throw fileError('write', file, role, `it is ${describeKind(stats)}, not a regular file`);
  }
  return fd;
}

/** Writes all of `content` to an open descriptor; a short or failed write is an InputError. */
export function writeAllSync(fd: number, content: string | Buffer, file: string, role: FileRole): void {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
  } catch (error) {
    throw fileError('write', file, role, errnoWords(error));
  }
}

/** Writes a whole file (created or replaced, fsync'ed), checked as openOutputFileSync checks it. */
export function writeOutputFileSync(file: string, content: string | Buffer, role: FileRole & { permissions?: number; mode?: WriteMode }): void {
  const fd = openOutputFileSync(file, role);
  try {
    writeAllSync(fd, content, file, role);
    try {
      fsyncSync(fd);
    } catch (error) {
      throw fileError('write', file, role, errnoWords(error));
    }
  } finally {
    closeSync(fd);
  }
}
