/** `exo-playbook diff` as a reviewer runs it: exit codes, the lines printed, both forms. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI } from './engine-support.js';
import { ALLOWLIST, ALLOWLIST_CHANGED, BASE, COSMETIC } from '../diff/helpers.js';

let dir: string;
beforeAll(() => assertBuilt());
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** No EXO_* variables at all: a reviewer's machine has none. */
function cli(args: string[], cwd: string) {
  return execa('node', [CLI, ...args], { cwd, reject: false, env: { NO_COLOR: '1', TMPDIR: tmpdir() }, extendEnv: false });
}

function side(name: string, playbook: string, allowlist: string): string {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'playbook.yaml'), playbook);
  writeFileSync(join(dir, name, 'allowlist.txt'), allowlist);
  return join(name, 'playbook.yaml');
}

describe('exo-playbook diff <old> <new>', () => {
  it('exits 0 for cosmetic edits and 2 with the addresses for an allowlist change', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-diff-'));
    const a = side('a', BASE, ALLOWLIST);
    const b = side('b', COSMETIC, ALLOWLIST);
    const c = side('c', BASE, ALLOWLIST_CHANGED);
    const cosmetic = await cli(['diff', a, b], dir);
    expect(cosmetic.exitCode, cosmetic.stderr).toBe(0);
    expect(cosmetic.stdout).toContain('No meaningful changes');
    const changed = await cli(['diff', a, c], dir);
    expect(changed.exitCode, changed.stderr).toBe(2);
    expect(changed.stdout).toContain('+ steps.allow.with.mailboxes (allowlist.txt): added crm@contoso.com');
    expect(changed.stdout).toContain('- steps.allow.with.mailboxes (allowlist.txt): removed printer@contoso.com');
    const json = JSON.parse((await cli(['diff', a, c, '--format', 'json'], dir)).stdout);
    expect(json.changed).toBe(true);
    const md = await cli(['diff', a, c, '--format', 'markdown'], dir);
    expect(md.stdout).toContain('## Playbook diff');
    expect(md.stdout).toContain('crm@contoso.com');
  });

  it('exits 1 naming the file when a side is not a valid playbook', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-diff-'));
    const a = side('a', BASE, ALLOWLIST);
    const bad = side('b', BASE.replace('exclusive: true', 'exclusiv: true'), ALLOWLIST);
    const result = await cli(['diff', a, bad], dir);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/b\/playbook\.yaml:\d+:\d+/);
  });
});

describe('exo-playbook diff --git', () => {
  it('exits 0 for a cosmetic commit and 2 for an allowlist-only commit', async () => {
    dir = mkdtempSync(join(tmpdir(), 'exo-diffgit-'));
    const git = (...args: string[]) => execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.test', '-c', 'commit.gpgsign=false', ...args], { cwd: dir });
    await git('init', '-q', '-b', 'main');
    side('playbooks', BASE, ALLOWLIST);
    await git('add', '.');
    await git('commit', '-q', '-m', 'base');
    writeFileSync(join(dir, 'playbooks', 'playbook.yaml'), COSMETIC);
    await git('commit', '-q', '-am', 'cosmetic');
    writeFileSync(join(dir, 'playbooks', 'allowlist.txt'), ALLOWLIST_CHANGED);
    await git('commit', '-q', '-am', 'allowlist');

    const cosmetic = await cli(['diff', '--git', 'HEAD~2..HEAD~1'], dir);
    expect(cosmetic.exitCode, cosmetic.stderr).toBe(0);
    const changed = await cli(['diff', '--git', 'HEAD~1..HEAD', 'playbooks'], dir);
    expect(changed.exitCode, changed.stderr).toBe(2);
    expect(changed.stdout).toContain('playbooks/playbook.yaml (HEAD~1 → HEAD)');
    expect(changed.stdout).toContain('added crm@contoso.com');
    expect(changed.stdout).toContain('removed printer@contoso.com');
  });
});
