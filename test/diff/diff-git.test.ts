import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { diffGit } from '../../src/diff/run.js';
import { InputError } from '../../src/errors.js';
import { ALLOWLIST, ALLOWLIST_CHANGED, BASE, COSMETIC } from './helpers.js';

let repo: string;
afterEach(async () => {
  if (repo) await rm(repo, { recursive: true, force: true });
});

async function git(...args: string[]): Promise<void> {
  await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', '-c', 'commit.gpgsign=false', ...args], { cwd: repo });
}

/** A repository with three commits: base, a cosmetic rewrite, then an allowlist-only change. */
async function history(): Promise<void> {
  repo = await mkdtemp(join(tmpdir(), 'diffgit-'));
  await git('init', '-q', '-b', 'main');
  await mkdir(join(repo, 'playbooks'));
  await writeFile(join(repo, 'playbooks', 'disable.yaml'), BASE);
  await writeFile(join(repo, 'playbooks', 'allowlist.txt'), ALLOWLIST);
  await writeFile(join(repo, 'notes.yaml'), 'just: yaml\n');
  await git('add', '.');
  await git('commit', '-q', '-m', 'base');
  await writeFile(join(repo, 'playbooks', 'disable.yaml'), COSMETIC);
  await git('commit', '-q', '-am', 'cosmetic');
  await writeFile(join(repo, 'playbooks', 'allowlist.txt'), ALLOWLIST_CHANGED);
  await git('commit', '-q', '-am', 'allowlist');
}

describe('diff --git', () => {
  it('a cosmetic commit has no meaningful change', async () => {
    await history();
    const report = await diffGit('HEAD~2..HEAD~1', [], repo);
    expect(report.diffs).toHaveLength(1);
    expect(report.diffs[0]!.old?.label).toBe('HEAD~2');
    expect(report.changed).toBe(false);
  });

  it('an allowlist-only commit shows the addresses, reading the allowlist at each revision', async () => {
    await history();
    const report = await diffGit('HEAD~1..HEAD', ['playbooks'], repo);
    expect(report.changed).toBe(true);
    expect(report.diffs[0]!.changes.map((c) => [c.kind, c.addresses, c.source])).toEqual([
      ['allowlist-added', ['crm@contoso.com'], 'allowlist.txt'],
      ['allowlist-removed', ['printer@contoso.com'], 'allowlist.txt'],
    ]);
  });

  it('a single revision compares with the working tree, uncommitted edits included', async () => {
    await history();
    await writeFile(join(repo, 'playbooks', 'allowlist.txt'), ALLOWLIST_CHANGED + 'new@contoso.com\n');
    const report = await diffGit('HEAD', [], repo);
    expect(report.diffs[0]!.new?.label).toBe('working tree');
    expect(report.diffs[0]!.changes).toMatchObject([{ kind: 'allowlist-added', addresses: ['new@contoso.com'] }]);
  });

  it('a playbook added since the revision is a change', async () => {
    await history();
    await writeFile(join(repo, 'playbooks', 'second.yaml'), BASE.replace('name: smtp-auth-disable', 'name: second'));
    const report = await diffGit('HEAD', [], repo);
    expect(report.diffs.map((d) => d.changes.map((c) => c.kind))).toEqual([[], ['playbook-added']]);
  });

  it('an unknown revision is bad input', async () => {
    await history();
    await expect(diffGit('nope..HEAD', [], repo)).rejects.toThrow(InputError);
    await expect(diffGit('nope..HEAD', [], repo)).rejects.toThrow(/unknown revision 'nope'/);
  });
});

describe('diff --git over a repository with invalid playbooks', () => {
  it('skips a playbook that is invalid and unchanged at both revisions, and fails on one that changed', async () => {
    await history();
    const bad = BASE.replace('exclusive: true', 'exclusiv: true');
    await writeFile(join(repo, 'playbooks', 'bad.yaml'), bad);
    await git('add', '.');
    await git('commit', '-q', '-m', 'a bad fixture');
    await writeFile(join(repo, 'playbooks', 'allowlist.txt'), ALLOWLIST);
    const report = await diffGit('HEAD', [], repo);
    expect(report.diffs).toHaveLength(1);
    expect(report.changed).toBe(true);
    await writeFile(join(repo, 'playbooks', 'bad.yaml'), bad + '# edited\n');
    await expect(diffGit('HEAD', [], repo)).rejects.toThrow(/bad\.yaml:\d+:\d+/);
  });
});
