/**
 * The one helper every read and write goes through (src/files/regular-file.ts): nothing waits on a
 * FIFO, nothing reads past its limit, only regular files are read or written, folders are made one
 * level at a time (also under /proc), and every failure is an InputError naming the path and option.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { makeFolders, readInputTextSync, readRegularFile, readRegularFileSync, writeOutputFileSync } from '../../src/files/regular-file.js';

const dir = mkdtempSync(join(tmpdir(), 'exo-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
execFileSync('mkfifo', [join(dir, 'pipe')]);
writeFileSync(join(dir, 'small.txt'), 'hello\n');
symlinkSync(join(dir, 'small.txt'), join(dir, 'link.txt'));
const role = { what: 'the test file', option: '--test' };

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected an InputError');
}

describe('reading', () => {
  it('reads a regular file, and a symlink to one unless links are refused', async () => {
    expect(readRegularFileSync(join(dir, 'link.txt'), { maxBytes: 100 })).toEqual({ ok: true, bytes: Buffer.from('hello\n') });
    expect(await readRegularFile(join(dir, 'small.txt'), { maxBytes: 100 })).toEqual({ ok: true, bytes: Buffer.from('hello\n') });
    expect(readRegularFileSync(join(dir, 'link.txt'), { maxBytes: 100, follow: false })).toMatchObject({ ok: false, reason: 'unreadable' });
  });

  it('refuses a FIFO, a device and a folder at once, and a missing file as missing', () => {
    expect(readRegularFileSync(join(dir, 'pipe'), { maxBytes: 100 })).toEqual({ ok: false, reason: 'not-regular', detail: 'it is a FIFO (named pipe), not a regular file' });
    expect(readRegularFileSync('/dev/zero', { maxBytes: 100 })).toEqual({ ok: false, reason: 'not-regular', detail: 'it is a device, not a regular file' });
    expect(readRegularFileSync(dir, { maxBytes: 100 })).toEqual({ ok: false, reason: 'not-regular', detail: 'it is a folder, not a regular file' });
    expect(readRegularFileSync(join(dir, 'nope'), { maxBytes: 100 })).toMatchObject({ ok: false, reason: 'missing' });
  });

  it('refuses a file over the limit by its size, before reading (a sparse 3 GiB file)', () => {
    const big = join(dir, 'big');
    writeFileSync(big, '');
    truncateSync(big, 3 * 1024 ** 3);
    expect(readRegularFileSync(big, { maxBytes: 1024 })).toEqual({ ok: false, reason: 'too-large', detail: '3221225472 bytes is over the 1024-byte limit' });
  });

  it('readInputTextSync names the path and the option, and refuses bytes that are not UTF-8', () => {
    expect(thrown(() => readInputTextSync(join(dir, 'pipe'), { maxBytes: 100, ...role })).message).toBe(`cannot read the test file (--test) ${join(dir, 'pipe')}: it is a FIFO (named pipe), not a regular file`);
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0xe9, 0x0a]));
    expect(thrown(() => readInputTextSync(join(dir, 'latin1.txt'), { maxBytes: 100, ...role })).message).toMatch(/it is not valid UTF-8 text$/);
  });
});

describe('writing', () => {
  it('writes a regular file whole', () => {
    writeOutputFileSync(join(dir, 'out.txt'), 'written\n', role);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('written\n');
  });

  it('refuses a FIFO without a reader, /dev/full and a folder, naming the option', () => {
    expect(thrown(() => writeOutputFileSync(join(dir, 'pipe'), 'x', role)).message).toMatch(/^cannot write the test file \(--test\) .*pipe: it is a FIFO \(named pipe\) or device with nothing on the other end$/);
    expect(thrown(() => writeOutputFileSync('/dev/full', 'x', role)).message).toBe('cannot write the test file (--test) /dev/full: it is a device, not a regular file');
    expect(thrown(() => writeOutputFileSync(dir, 'x', role)).message).toMatch(/it is a folder, not a file$/);
  });

  it('makes folders one level at a time; a file in the way, /proc and /dev/full are located errors', () => {
    makeFolders(join(dir, 'a', 'b', 'c'), role);
    expect(readRegularFileSync(join(dir, 'a', 'b', 'c'), { maxBytes: 1 })).toMatchObject({ reason: 'not-regular' });
    expect(thrown(() => makeFolders(join(dir, 'small.txt', 'sub'), role)).message).toMatch(/small\.txt is a file, not a folder|a part of .* is a file, not a folder/);
    expect(thrown(() => makeFolders('/proc/nope/deeper', role)).message).toBe('cannot create the test file (--test) /proc/nope/deeper: /proc/nope: no such file or folder');
    expect(thrown(() => makeFolders('/dev/full', role)).message).toBe('cannot create the test file (--test) /dev/full: /dev/full is a device, not a folder');
  });
});
