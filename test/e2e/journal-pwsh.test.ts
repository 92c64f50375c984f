/**
 * Issue 10 point 2 through real PowerShell and the stub module: the pwsh host dies right after the
 * stub saved a write (state.faults.crashAfterCall, exit 134), so the reply never comes. The engine
 * restarts PowerShell, reads the value back and journals the write as applied.
 * Needs pwsh (src/exchange/find-pwsh.ts): under CI=true a missing pwsh fails.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import type { AfterWriteRecord, BeforeWriteRecord, JournalRecord } from '../../src/engine/journal.js';
import { cli, CLI, PLAYBOOK_ENV, ROOT, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh) {
  if (process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');
  console.warn('\n*** SKIPPING journal pwsh e2e: PowerShell not found (run `npm run ensure-pwsh`) ***\n');
}

const TOKEN = `eyJ0eXAiOiJKV1QifQ.journal-e2e-${process.pid}.c2ln`;
const cleanups: Workspace[] = [];
afterEach(() => cleanups.splice(0).forEach((w) => w.cleanup()));

function tokenWorkspace(): Workspace {
  const w = workspace();
  cleanups.push(w);
  const text = readFileSync(w.playbook, 'utf8').replace(/auth: \{ method: certificate[^\n]*\}/, 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }');
  writeFileSync(w.playbook, text);
  return w;
}

function pwshEnv(w: Workspace, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_PWSH: pwsh!.path,
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
    EXO_PLAYBOOK_LOCK_DIR: w.file('locks'),
    ...extra,
  };
}

const accept = ['--yes', '--accept-breakage', 'alice@contoso.com'];

function journal(w: Workspace): JournalRecord[] {
  const runs = w.file('runs');
  const dir = readdirSync(runs).find((d) => !d.endsWith('-rollback'))!;
  return readFileSync(join(runs, dir, 'journal.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalRecord);
}

describe.skipIf(!pwsh)('a pwsh host that dies after a write committed', () => {
  it('is restarted; the write is read back and journaled applied; the run ends compliant', async () => {
    // The number of the first write call in the first pwsh process, from a run on a copy.
    const probe = tokenWorkspace();
    const calls = probe.file('calls.jsonl');
    const dry = await cli(['apply', probe.playbook, '--target', 'exchange', '--runs-dir', probe.file('runs'), ...accept], pwshEnv(probe, { EXO_PLAYBOOK_STUB_CALLS: calls }));
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    const names = readFileSync(calls, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { cmdlet: string }).cmdlet);
    const firstWrite = names.findIndex((n) => n.startsWith('Set-')) + 1;
    expect(firstWrite).toBeGreaterThan(1);

    const w = tokenWorkspace();
    const state = JSON.parse(readFileSync(w.state, 'utf8'));
    state.faults = { crashAfterCall: firstWrite };
    writeFileSync(w.state, JSON.stringify(state, null, 2));
    const r = await cli(['apply', w.playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), ...accept], pwshEnv(w));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const records = journal(w);
    const firstBefore = records.find((x): x is BeforeWriteRecord => x.type === 'before')!;
    const firstAfter = records.find((x): x is AfterWriteRecord => x.type === 'after' && x.changeId === firstBefore.changeId)!;
    expect(firstAfter).toMatchObject({ outcome: 'applied', readBack: { verdict: 'applied', value: firstBefore.after } });
    expect(firstAfter.warnings.join(' ')).toMatch(/PowerShell exited during Set-.*a read-back shows the write happened/s);
    expect(records.at(-1)).toMatchObject({ type: 'run-end', interrupted: false });
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });
});

describe.skipIf(!pwsh)('Ctrl-C while reading through pwsh', () => {
  it('stops the read at once: exit 4, nothing written, and no fresh PowerShell is signed in just to sign out', async () => {
    const w = tokenWorkspace();
    const state = JSON.parse(readFileSync(w.state, 'utf8'));
    // Five seconds a call: Ctrl-C comes while the reads go on, however late a loaded machine delivers it.
    state.faults = { latencyMs: 5000 };
    writeFileSync(w.state, JSON.stringify(state, null, 2));
    const calls = w.file('calls.jsonl');
    const child = spawn(process.execPath, [CLI, 'apply', w.playbook, '--target', 'exchange', '--runs-dir', w.file('runs'), ...accept], {
      env: { ...process.env, ...PLAYBOOK_ENV, ...pwshEnv(w, { EXO_PLAYBOOK_STUB_CALLS: calls }) },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const end = Date.now() + 120_000;
    while (!(stderr.includes('observe ') && existsSync(calls))) {
      if (Date.now() > end) throw new Error(`no read started:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(4);
    expect(stderr).toContain('interrupt: stopping; nothing has been written');
    const names = readFileSync(calls, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { cmdlet: string }).cmdlet);
    expect(names.filter((n) => n.startsWith('Set-'))).toEqual([]);
    expect(names.filter((n) => n === 'Connect-ExchangeOnline')).toHaveLength(1);
    expect(stderr).not.toContain('(restart)');
  });
});
