/**
 * A simulated tenant survives `kill -9` of the CLI in the middle of an apply: at several points of a
 * 10,000-mailbox run the state file (with its change log) loads, and every write is either done or
 * not done, never half done; every write the journal calls applied is in the tenant; a rerun finishes
 * the job.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTenant } from '../../src/exchange/simulator/generate.js';
import { readStateFile } from '../../src/exchange/simulator/state-file.js';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox } from '../support/tenant.js';
import { assertBuilt, EngineWorkspace, sim } from './engine-support.js';

const STRAYS = 400;

function bigTenant(): TenantState {
  const state = generateTenant({ mailboxes: 10_000, seed: 'crash', clock: '2026-11-20T09:00:00Z', organization: 'contoso.onmicrosoft.com' });
  // The playbook's allowlist entry, and mailboxes that all keep a stray $false: the exclusive allowlist resets each one.
  for (const m of state.mailboxes) m.SmtpClientAuthenticationDisabled = null;
  state.mailboxes.unshift(mailbox('device', null));
  for (let i = 1; i <= STRAYS; i++) state.mailboxes[i]!.SmtpClientAuthenticationDisabled = false;
  state.smtpAuthActivity = [];
  return state;
}

function appliedTargets(runsDir: string): Set<string> {
  const applied = new Set<string>();
  if (!existsSync(runsDir)) return applied;
  for (const run of readdirSync(runsDir)) {
    const journal = join(runsDir, run, 'journal.jsonl');
    if (!existsSync(journal)) continue;
    const targets = new Map<string, string>();
    for (const line of readFileSync(journal, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let record: { type: string; changeId: string; target?: string; outcome?: string };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        continue; // a torn last line of a killed run
      }
      if (record.type === 'before' && record.target) targets.set(record.changeId, record.target.toLowerCase());
      if (record.type === 'after' && record.outcome === 'applied' && targets.has(record.changeId)) applied.add(targets.get(record.changeId)!);
    }
  }
  return applied;
}

function countApplied(runsDir: string): number {
  return appliedTargets(runsDir).size;
}

describe('kill -9 of the CLI mid-apply on a 10,000-mailbox simulated tenant', () => {
  let w: EngineWorkspace;
  let initial: TenantState;
  beforeAll(() => {
    assertBuilt();
    initial = bigTenant();
    w = new EngineWorkspace(initial);
  });
  afterAll(() => w.cleanup());

  it('leaves a tenant where each write is done or not done, at every kill point, and a rerun finishes', async () => {
    const strays = initial.mailboxes.slice(1, STRAYS + 1).map((m) => m.PrimarySmtpAddress.toLowerCase());
    for (const killAfter of [1, 60, 180]) {
      const child = w.spawn(['apply', w.playbook, ...sim(w), '--yes', '--runs-dir', w.runsDir]);
      child.stdout?.resume();
      child.stderr?.resume();
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Poll the journals until this many writes are recorded as applied in all, then kill without warning.
      const deadline = Date.now() + 120_000;
      while (countApplied(w.runsDir) < killAfter && Date.now() < deadline) {
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill('SIGKILL');
      await exited;
      expect(child.signalCode === 'SIGKILL' || child.exitCode !== null).toBe(true);

      // The tenant loads (file + change log) and every stray is either untouched or reset, never anything else.
      const state = await readStateFile(w.state);
      const byAddress = new Map(state.mailboxes.map((m) => [m.PrimarySmtpAddress.toLowerCase(), m]));
      const applied = appliedTargets(w.runsDir);
      for (const address of strays) {
        const value = byAddress.get(address)!.SmtpClientAuthenticationDisabled;
        expect([false, null]).toContain(value);
        if (applied.has(address)) expect(value).toBeNull();
      }
      // Nothing outside the plan moved.
      expect(state.mailboxes.length).toBe(initial.mailboxes.length);
      expect(state.mailboxes.slice(STRAYS + 1).every((m) => m.SmtpClientAuthenticationDisabled === null)).toBe(true);
    }

    expect(countApplied(w.runsDir)).toBeGreaterThanOrEqual(180);
    // The next apply takes over the stale lock and finishes: every stray reset, the organization off.
    const rerun = w.run(['apply', w.playbook, ...sim(w), '--yes', '--runs-dir', w.runsDir]);
    expect(rerun.stderr).not.toMatch(/internal error/);
    expect([0, 2]).toContain(rerun.code);
    const final = await readStateFile(w.state);
    expect(final.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    // Only the allowlisted mailbox keeps SMTP AUTH.
    expect(final.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === false).map((m) => m.Name)).toEqual(['device']);
  }, 300_000);
});
