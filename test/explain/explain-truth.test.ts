/**
 * `explain` tells the truth (issue 9 part 5): the list of cmdlets it prints holds every cmdlet a real
 * run of the playbook makes (plan, apply, verify, rollback, recorded on the simulated tenant), so a
 * least-privilege role built from it works; it prints no parameter a cmdlet lacks (no -Confirm on
 * Start-HistoricalSearch); and Get-User is called in a form Microsoft documents.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultDeps, type EngineDeps } from '../../src/engine/deps.js';
import { runApply } from '../../src/engine/run-apply.js';
import { runPlan, runVerify } from '../../src/engine/run-plan.js';
import { runRollback } from '../../src/engine/run-rollback.js';
import { USERS_WITH_POLICY_FILTER } from '../../src/actions/smtp-auth/authentication-policies.js';
import type { CmdletParameters, ExchangeSession } from '../../src/exchange/session.js';
import { explainGeneral } from '../../src/explain/general.js';
import { explainJson, renderExplainText } from '../../src/explain/render.js';
import { PLAYBOOK_ENV, withUsageStep, workspace, type Workspace } from '../e2e/smtp-auth-support.js';

const workspaces: Workspace[] = [];
afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));

interface Call {
  cmdlet: string;
  parameters: CmdletParameters;
}

/** The real engine dependencies, with every call of every session opened recorded. */
async function recordingDeps(calls: Call[]): Promise<EngineDeps> {
  const deps = await defaultDeps();
  return {
    ...deps,
    openTarget: async (target, tenant, options) => {
      const session = await deps.openTarget(target, tenant, options);
      const recorded: ExchangeSession = {
        kind: session.kind,
        invoke: (cmdlet, parameters = {}, invokeOptions) => {
          calls.push({ cmdlet, parameters });
          return session.invoke(cmdlet, parameters, invokeOptions);
        },
        stream: (cmdlet, parameters = {}, invokeOptions) => {
          calls.push({ cmdlet, parameters });
          return session.stream(cmdlet, parameters, invokeOptions);
        },
        close: () => session.close(),
      };
      return recorded;
    },
  };
}

describe('explain tells the truth', () => {
  it('lists every cmdlet that plan, apply, verify and rollback of the playbook really run', async () => {
    // The shipped disable playbook over a drifted tenant that has an authentication policy.
    const w = workspace();
    workspaces.push(w);
    const calls: Call[] = [];
    const deps = await recordingDeps(calls);
    const base = { deps, target: `sim:${w.state}`, env: { EXO_PLAYBOOK_LOCK_DIR: w.file('locks') }, cwd: w.dir, playbookFile: w.playbook };
    await runPlan({ ...base, acceptBreakage: ['all'] });
    const applied = await runApply({ ...base, runsDir: w.file('runs'), yes: true, concurrency: 1, acceptBreakage: ['all'] });
    expect(applied.summary.applied).toBeGreaterThan(0);
    await runVerify(base);
    const [runDir] = readdirSync(w.file('runs'));
    await runRollback({ ...base, runsDir: w.file('runs'), yes: true, concurrency: 1, runDir: join(w.file('runs'), runDir!), targetGiven: true });

    const ran = [...new Set(calls.map((c) => c.cmdlet).filter((c) => !/^(Connect|Disconnect)-ExchangeOnline$/.test(c)))].sort();
    // A test that cannot fail is a defect: the run did make the reads issue 9 names.
    expect(ran).toEqual(expect.arrayContaining(['Get-User', 'Get-OrganizationConfig', 'Get-AuthenticationPolicy', 'Get-CASMailbox']));

    const { loadPlaybook } = await import('../../src/playbook/load.js');
    const source = await loadPlaybook(w.playbook, { env: PLAYBOOK_ENV });
    const steps = await explainGeneral(source.playbook, deps.actions, { baseDir: source.baseDir });
    const json = explainJson({ playbook: 'p', organization: 'o' }, steps) as { cmdlets: string[] };
    for (const cmdlet of ran) expect(json.cmdlets, `explain does not list ${cmdlet}`).toContain(cmdlet);
    const text = renderExplainText({ playbook: 'p', organization: 'o' }, steps);
    expect(text).toContain(`# cmdlets a run of this playbook may make (plan, apply, verify, rollback; sign-in aside): ${json.cmdlets.join(', ')}`);
  });

  it('calls Get-User only in a form Microsoft documents: a filter on a filterable property, never -Identity with a proxy address', async () => {
    const w = workspace();
    workspaces.push(w);
    const calls: Call[] = [];
    const deps = await recordingDeps(calls);
    await runPlan({ deps, target: `sim:${w.state}`, env: {}, cwd: w.dir, playbookFile: w.playbook, acceptBreakage: ['all'] });
    const getUser = calls.filter((c) => c.cmdlet === 'Get-User');
    expect(getUser.length).toBeGreaterThan(0);
    for (const call of getUser) {
      expect(call.parameters.Identity, JSON.stringify(call.parameters)).toBeUndefined();
      expect(call.parameters.Filter).toBe(USERS_WITH_POLICY_FILTER);
    }
    // explain prints that same call.
    const { loadPlaybook } = await import('../../src/playbook/load.js');
    const source = await loadPlaybook(w.playbook, { env: PLAYBOOK_ENV });
    const text = renderExplainText({ playbook: 'p', organization: 'o' }, await explainGeneral(source.playbook, deps.actions, { baseDir: source.baseDir }));
    expect(text.split('\n')).toContain("Get-User -Filter 'AuthenticationPolicy -ne $null' -ResultSize 'Unlimited'");
  });

  it('prints no -Confirm on Start-HistoricalSearch (it has none), and -Confirm:$false on Set-*', async () => {
    const w = workspace();
    workspaces.push(w);
    // The usage step without the CSV: it submits a historical search.
    writeFileSync(w.playbook, withUsageStep(readFileSync(w.playbook, 'utf8'), '{ days: 3, notifyAddress: [admin@contoso.com] }'));
    const deps = await defaultDeps();
    const { loadPlaybook } = await import('../../src/playbook/load.js');
    const source = await loadPlaybook(w.playbook, { env: PLAYBOOK_ENV });
    const text = renderExplainText({ playbook: 'p', organization: 'o' }, await explainGeneral(source.playbook, deps.actions, { baseDir: source.baseDir }));
    const start = text.split('\n').find((l) => l.startsWith('Start-HistoricalSearch '));
    expect(start, text).toBeDefined();
    expect(start).not.toMatch(/-Confirm|-WhatIf/);
    expect(text).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $true -Confirm:$false');
  });
});
