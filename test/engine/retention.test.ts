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

/** A journal with or without a write (a "before" record). */
async function journalOf(name: string, wrote: boolean): Promise<void> {
  const records = [
    { seq: 1, at: 't', type: 'run-start', kind: 'apply' },
    ...(wrote ? [{ seq: 2, at: 't', type: 'before', changeId: 'c' }, { seq: 3, at: 't', type: 'after', changeId: 'c', outcome: 'applied' }] : []),
    { seq: 9, at: 't', type: 'run-end', summary: { applied: wrote ? 1 : 0, failed: 0, skipped: 0 }, interrupted: false },
  ];
  await writeFile(join(dir, name, 'journal.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
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

  it('keeps the newest run that wrote to the tenant, whatever no-op, refused or failed-before-writing runs came after it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    await makeRuns(['20261120T010000Z-p', '20261121T010000Z-p', '20261122T010000Z-p', '20261123T010000Z-p', '20261124T010000Z-p']);
    await journalOf('20261120T010000Z-p', true); // an older writing run
    await journalOf('20261121T010000Z-p', true); // the newest writing run
    await journalOf('20261122T010000Z-p', false); // a no-op
    // 20261123: refused before writing (no journal at all); 20261124: the no-op that just finished.
    const result = await pruneRuns(dir, 'p', 1, join(dir, '20261124T010000Z-p'));
    expect((await readdir(dir)).sort()).toEqual(['20261121T010000Z-p', '20261124T010000Z-p']);
    expect(result.deleted.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['20261120T010000Z-p', '20261122T010000Z-p', '20261123T010000Z-p']);
  });

  it('--keep-runs N deletes a writing run only when N newer writing runs exist; non-writing runs fill the rest', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    await makeRuns(['20261120T010000Z-p', '20261121T010000Z-p', '20261122T010000Z-p', '20261123T010000Z-p']);
    await journalOf('20261120T010000Z-p', true);
    await journalOf('20261121T010000Z-p', false);
    await journalOf('20261122T010000Z-p', true);
    await journalOf('20261123T010000Z-p', false);
    await pruneRuns(dir, 'p', 3);
    // Both writing runs and the newest no-op.
    expect((await readdir(dir)).sort()).toEqual(['20261120T010000Z-p', '20261122T010000Z-p', '20261123T010000Z-p']);
    await pruneRuns(dir, 'p', 2);
    expect((await readdir(dir)).sort()).toEqual(['20261120T010000Z-p', '20261122T010000Z-p']);
  });

  it('a journal that cannot be read counts as a writing run (it may be the only record of a write)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    await makeRuns(['20261120T010000Z-p', '20261121T010000Z-p']);
    await writeFile(join(dir, '20261120T010000Z-p', 'journal.jsonl'), 'garbage\nmore garbage\n');
    await journalOf('20261121T010000Z-p', false);
    await pruneRuns(dir, 'p', 1);
    expect(await readdir(dir)).toEqual(['20261120T010000Z-p']);
  });

  it('treats a missing runs directory as empty', async () => {
    dir = await mkdtemp(join(tmpdir(), 'runs-'));
    expect(await listRunDirectories(join(dir, 'absent'), 'p')).toEqual([]);
    expect(await pruneRuns(join(dir, 'absent'), 'p', 3)).toEqual({ kept: [], deleted: [] });
  });
});
