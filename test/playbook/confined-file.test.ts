/** readConfinedFile: the size cap holds even where fstat cannot tell the size (/proc), and nothing waits on a FIFO. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfinedFile } from '../../src/playbook/confined-file.js';

const dir = mkdtempSync(join(tmpdir(), 'exo-confined-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readConfinedFile', () => {
  it('reads a regular file inside the root whole', async () => {
    writeFileSync(join(dir, 'list.txt'), 'a@contoso.com\n');
    const read = await readConfinedFile(join(dir, 'list.txt'), { roots: [dir], maxBytes: 100 });
    expect(read.ok && read.bytes.toString()).toBe('a@contoso.com\n');
  });

  it('stops at cap + 1 bytes on a file whose size fstat reports as 0 (/proc), and refuses it', async () => {
    const read = await readConfinedFile('/proc/self/maps', { roots: [], maxBytes: 16 });
    expect(read).toEqual({ ok: false, reason: 'too-large', detail: 'more than 16 bytes is over the 16-byte limit' });
  });

  it('refuses a file of exactly cap + 1 bytes and accepts one of cap bytes', async () => {
    writeFileSync(join(dir, 'eleven'), 'x'.repeat(11));
    writeFileSync(join(dir, 'ten'), 'x'.repeat(10));
    expect((await readConfinedFile(join(dir, 'eleven'), { roots: [dir], maxBytes: 10 })).ok).toBe(false);
    expect((await readConfinedFile(join(dir, 'ten'), { roots: [dir], maxBytes: 10 })).ok).toBe(true);
  });

  it('a FIFO without a writer is refused at once, never waited on', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(await readConfinedFile(join(dir, 'fifo'), { roots: [dir], maxBytes: 10 })).toMatchObject({ ok: false, reason: 'not-regular' });
  });

  it('a symlink inside the root to a file inside the root is fine; one leaving it is refused', async () => {
    symlinkSync(join(dir, 'ten'), join(dir, 'inner-link'));
    symlinkSync('/etc/hostname', join(dir, 'outer-link'));
    expect((await readConfinedFile(join(dir, 'inner-link'), { roots: [dir], maxBytes: 10 })).ok).toBe(true);
    expect(await readConfinedFile(join(dir, 'outer-link'), { roots: [dir], maxBytes: 10 })).toMatchObject({ ok: false, reason: 'outside-root' });
  });
});
