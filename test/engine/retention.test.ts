import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listRunDirectories, pruneRuns } from '../../src/engine/retention.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function makeRuns(names: string[]): Promise<void> {
  for (const name of names) {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'plan.json'), '{}');
  }
}

describe('run retention (--keep-runs)', () => {
  it('keeps the newest N runs of the playbook and leaves other playbooks and stray folders alone', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    await makeRuns([
      '20261120T010000Z-smtp-auth',
      '20261121T010000Z-smtp-auth',
      '20261122T010000Z-smtp-auth',
      '20261122T010000Z-smtp-auth-2',
      '20261123T010000Z-smtp-auth',
      '20261101T010000Z-smtp-auth-disable',
      'notes',
      '20261101T010000Z-smtp-auth-backup',
    ]);
    const result = await pruneRuns(dir, 'smtp-auth', 2);
    expect(result.deleted.map((p) => p.slice(dir.length + 1))).toEqual([
      '20261122T010000Z-smtp-auth',
      '20261121T010000Z-smtp-auth',
      '20261120T010000Z-smtp-auth',
    ]);
    expect((await readdir(dir)).sort()).toEqual([
      '20261101T010000Z-smtp-auth-backup',
      '20261101T010000Z-smtp-auth-disable',
      '20261122T010000Z-smtp-auth-2',
      '20261123T010000Z-smtp-auth',
      'notes',
    ]);
  });

  it('never deletes the run it was told to protect', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    await makeRuns(['20261120T010000Z-p', '20261121T010000Z-p', '20261122T010000Z-p']);
    const result = await pruneRuns(dir, 'p', 1, join(dir, '20261120T010000Z-p'));
    expect(result.deleted.map((p) => p.slice(dir.length + 1))).toEqual(['20261121T010000Z-p']);
    expect((await readdir(dir)).sort()).toEqual(['20261120T010000Z-p', '20261122T010000Z-p']);
  });

  it('treats a missing runs directory as empty', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    expect(await listRunDirectories(join(dir, 'absent'), 'p')).toEqual([]);
    expect(await pruneRuns(join(dir, 'absent'), 'p', 3)).toEqual({ kept: [], deleted: [] });
  });
});
