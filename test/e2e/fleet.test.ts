/**
 * `exo-playbook fleet …` through the built CLI on a fleet of simulated tenants: approval once (plan
 * --out, apply --plan), a tenant whose sign-in fails, a tenant locked by another run, a 4-shard run
 * (four processes, then merge) equal to the unsharded run, and bad input located with exit 1.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquireTenantLock } from '../../src/engine/lock.js';
import { assertBuilt } from './engine-support.js';
import { FleetWorkspace, tenantId, withoutTimings } from '../fleet/fleet-support.js';
import { runCli } from '../support/report-workspace.js';

beforeAll(() => assertBuilt());

let w: FleetWorkspace | undefined;
afterEach(() => {
  w?.cleanup();
  w = undefined;
});

const fleet = (command: string, ...rest: string[]) => ['fleet', command, 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', ...rest];

describe('fleet on simulated tenants', () => {
  it('plans once, applies exactly the saved plans per tenant, then verifies compliant', () => {
    w = new FleetWorkspace({ tenants: 3 });
    const plan = w.run(fleet('plan', '--out', 'plans', '--log-file', 'fleet.log.jsonl'));
    expect(plan.code, plan.stderr).toBe(2);
    // --log-file: every tenant's events, each naming its tenant.
    const events = readFileSync(join(w.dir, 'fleet.log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; tenant?: string });
    expect(new Set(events.filter((e) => e.type === 'run-start').map((e) => e.tenant))).toEqual(new Set(w.ids));
    expect(events.every((e) => w!.ids.includes(e.tenant!))).toBe(true);
    for (const id of w.ids) expect(plan.stdout).toMatch(new RegExp(`${id}\\s+changes\\s+2\\s+\\d+ change\\(s\\)`));
    expect(plan.stdout).toContain('[SIMULATED]');
    const index = JSON.parse(readFileSync(join(w.dir, 'plans', 'index.json'), 'utf8')) as { tenants: { id: string; planFile: string }[] };
    expect(index.tenants.map((t) => t.id)).toEqual(w.ids);
    for (const id of w.ids) expect(existsSync(join(w.dir, 'plans', `${id}.plan.json`))).toBe(true);
    // Nothing written by the plan.
    for (const id of w.ids) expect(w.readState(id).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);

    const apply = w.run(fleet('apply', '--plan', 'plans', '--result', 'applied.json'));
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    for (const id of w.ids) {
      expect(apply.stdout).toMatch(new RegExp(`${id}\\s+ok\\s+0\\s+\\d+ applied, 0 failed, 0 skipped; compliant`));
      // Each tenant its own run folder: runs/<tenant>/<run>/ with plan, journal and summary.
      const runs = readdirSync(join(w.dir, 'runs', id));
      expect(runs).toHaveLength(1);
      expect(readdirSync(join(w.dir, 'runs', id, runs[0]!)).sort()).toEqual(['journal.jsonl', 'plan.json', 'summary.md']);
    }
    // The change log beside each state file holds the writes; verify reads them back.
    const verify = w.run(fleet('verify'));
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toContain('3 tenant(s): 3 ok');

    // A saved plan applies once: the tenants changed since, so each is refused as stale (exit 4).
    const again = w.run(fleet('apply', '--plan', 'plans'));
    expect(again.code).toBe(4);
    for (const id of w.ids) expect(again.stdout).toMatch(new RegExp(`${id}\\s+refused\\s+4\\s+refused \\(stale-plan\\)`));

    // Rollback of the whole fleet from the apply's result: every tenant back to SMTP AUTH on.
    const rollback = w.run(['fleet', 'rollback', 'applied.json', '--inventory', 'inventory.yaml', '--yes']);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    for (const id of w.ids) expect(w.readState(id).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
    const replan = w.run(fleet('plan', '--format', 'json'));
    const replanned = JSON.parse(replan.stdout) as { tenants: { id: string; plan: { summary: { changes: number } } }[] };
    for (const t of replanned.tenants) expect(t.plan.summary.changes).toBeGreaterThan(0);
  });

  it('asks once: without a terminal and without --yes nothing is written (exit 4); a blocked tenant is refused, the others applied', () => {
    w = new FleetWorkspace({ tenants: 3, unguarded: [2] });
    const refused = w.run(fleet('apply'));
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('Fleet apply: 3 tenant(s), SIMULATED');
    expect(refused.stderr).toMatch(/Refused by the lockout guard[^\n]*\n\s+tenant02-contoso\.onmicrosoft\.com: /);
    expect(refused.stderr).toContain('no terminal to confirm the fleet run, and --yes was not given; nothing was written');
    for (const id of w.ids) expect(w.readState(id).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);

    const applied = w.run(fleet('apply', '--yes'));
    expect(applied.code).toBe(4);
    expect(applied.stdout).toMatch(new RegExp(`${tenantId(2)}\\s+refused\\s+4\\s+refused \\(breakage\\)`));
    expect(applied.stdout).toMatch(new RegExp(`${tenantId(1)}\\s+ok\\s+0`));
    expect(applied.stdout).toMatch(new RegExp(`${tenantId(3)}\\s+ok\\s+0`));
    expect(applied.stdout).toContain(`exit 4: ${tenantId(2)}`);
  });

  it('a tenant whose sign-in fails: its row says why, the others run, exit 1', () => {
    // The inventory names a tenant the simulated service does not know by that name: Connect-ExchangeOnline refuses it.
    w = new FleetWorkspace({ tenants: 3 });
    const text = readFileSync(w.inventory, 'utf8').replace(`  - id: ${tenantId(2)}\n`, '  - id: ghost-contoso.onmicrosoft.com\n');
    writeFileSync(w.inventory, text);
    const r = w.run(fleet('plan'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ghost-contoso\.onmicrosoft\.com\s+error\s+1\s+\S.*ghost-contoso\.onmicrosoft\.com/);
    expect(r.stdout).toMatch(new RegExp(`${tenantId(1)}\\s+changes\\s+2`));
    expect(r.stdout).toMatch(new RegExp(`${tenantId(3)}\\s+changes\\s+2`));
    expect(r.stdout).toContain('exit 1: ghost-contoso.onmicrosoft.com');
  });

  it('a tenant locked by another run is refused (exit 4); the others are applied', () => {
    w = new FleetWorkspace({ tenants: 3 });
    const lock = acquireTenantLock({ organization: tenantId(3), target: `sim:${w.statePath(tenantId(3))}`, command: 'apply another-run', env: { EXO_PLAYBOOK_LOCK_DIR: w.lockDir }, now: () => new Date() });
    try {
      const r = w.run(fleet('apply', '--yes'));
      expect(r.code).toBe(4);
      expect(r.stdout).toMatch(new RegExp(`${tenantId(3)}\\s+refused\\s+4\\s+refused \\(lock\\)`));
      expect(r.stdout).toMatch(new RegExp(`${tenantId(1)}\\s+ok\\s+0`));
      expect(w.readState(tenantId(3)).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
    } finally {
      lock.release();
    }
  });

  it('four shards in four processes, merged, equal the unsharded run apart from timings', async () => {
    w = new FleetWorkspace({ tenants: 10 });
    const whole = w.run(fleet('plan', '--format', 'json'));
    expect(whole.code).toBe(2);
    const shards = await Promise.all([1, 2, 3, 4].map((k) => w!.runAsync(fleet('plan', '--shard', `${k}/4`, '--result', `shard-${k}.json`, '--parallel', '2'))));
    for (const s of shards) expect([0, 2], s.stderr).toContain(s.code);
    const sizes = [1, 2, 3, 4].map((k) => (JSON.parse(readFileSync(join(w!.dir, `shard-${k}.json`), 'utf8')) as { tenants: unknown[] }).tenants.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10);
    const merged = w.run(['fleet', 'merge', 'shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-4.json', '--format', 'json']);
    expect(merged.code, merged.stderr).toBe(2);
    expect(withoutTimings(JSON.parse(merged.stdout))).toEqual(withoutTimings(JSON.parse(whole.stdout)));
    // A rerun hits the same shard.
    const rerun = w.run(fleet('plan', '--shard', '3/4', '--format', 'json'));
    expect((JSON.parse(rerun.stdout) as { tenants: { id: string }[] }).tenants.map((t) => t.id)).toEqual((JSON.parse(readFileSync(join(w.dir, 'shard-3.json'), 'utf8')) as { tenants: { id: string }[] }).tenants.map((t) => t.id));

    // A shard of another inventory is refused, located at its file.
    writeFileSync(w.inventory, `${readFileSync(w.inventory, 'utf8')}# changed\n`);
    expect(w.run(fleet('plan', '--shard', '4/4', '--result', 'shard-4b.json')).code).toBe(2);
    const foreign = w.run(['fleet', 'merge', 'shard-1.json', 'shard-2.json', 'shard-3.json', 'shard-4b.json']);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(/^shard-4b\.json:1:1: fleet merge: shard-4b\.json is a result of another inventory/m);
    // A missing shard leaves its tenants as rows that say so (exit 1), never silently out.
    const partial = w.run(['fleet', 'merge', 'shard-1.json', 'shard-2.json', 'shard-3.json']);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain('no result: shard(s) 4 of 4 missing from the merge');
  });
});

describe('approval once on a terminal, --fail-fast', () => {
  const interactive = (args: string[], answer: string) => runCli(args, w!.dir, w!.env(), answer);

  it('shows one summary and asks once: "n" writes nothing (exit 4), "y" applies every tenant', async () => {
    w = new FleetWorkspace({ tenants: 3 });
    const declined = await interactive(fleet('apply'), 'n\n');
    expect(declined.code).toBe(4);
    expect(declined.stderr.match(/\[y\/N\]/g)).toHaveLength(1);
    expect(declined.stderr).toMatch(/Fleet apply: 3 tenant\(s\), SIMULATED: \d+ change\(s\) in 3 tenant\(s\)/);
    expect(declined.stderr).toContain('not confirmed; nothing was written');
    for (const id of w.ids) expect(w.readState(id).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
    const accepted = await interactive(fleet('apply'), 'y\n');
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(accepted.stderr.match(/\[y\/N\]/g)).toHaveLength(1);
    for (const id of w.ids) expect(w.readState(id).transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('--fail-fast: after a tenant fails, no new tenant starts', () => {
    w = new FleetWorkspace({ tenants: 3 });
    writeFileSync(w.inventory, readFileSync(w.inventory, 'utf8').replace(`  - id: ${tenantId(1)}\n`, '  - id: ghost-contoso.onmicrosoft.com\n'));
    const r = w.run(fleet('plan', '--parallel', '1', '--fail-fast'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ghost-contoso\.onmicrosoft\.com\s+error\s+1/);
    for (const i of [2, 3]) expect(r.stdout).toMatch(new RegExp(`${tenantId(i)}\\s+not-run\\s+1\\s+not started: --fail-fast after ghost-contoso\\.onmicrosoft\\.com failed \\(exit 1\\)`));
  });
});

describe('fleet stopped by SIGTERM', () => {
  it('starts no new tenant; the tenant in flight ends as a single run does; the others are listed as not run (exit 4)', async () => {
    w = new FleetWorkspace({ tenants: 3 });
    for (const id of w.ids) {
      const state = w.readState(id);
      state.faults = { latencyMs: 150 };
      w.writeState(id, state);
    }
    expect(w.run(fleet('plan', '--out', 'plans')).code).toBe(2);
    const child = w.spawn(fleet('apply', '--plan', 'plans', '--parallel', '1'));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const firstDone = new Promise<void>((resolve) =>
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('[1/3]')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await firstDone;
    child.kill('SIGTERM');
    expect(await exited).toBe(4);
    expect(stderr).toContain('SIGTERM received');
    expect(stdout).toMatch(new RegExp(`${tenantId(1)}\\s+ok\\s+0`));
    expect(stdout).toMatch(new RegExp(`${tenantId(3)}\\s+not-run\\s+4\\s+interrupted: the fleet run was stopped before this tenant started`));
    expect(w.readState(tenantId(3)).transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
    // The tenant in flight: interrupted (nothing or part written, its journal says which) or finished.
    expect(stdout).toMatch(new RegExp(`${tenantId(2)}\\s+(refused\\s+4\\s+(interrupted|refused \\(interrupted\\))|ok\\s+0)`));
  });
});

describe('fleet bad input: exit 1, located', () => {
  it('duplicate tenant id, inline secret, unknown key, a selector matching nothing, K > N', () => {
    w = new FleetWorkspace({ tenants: 2 });
    const good = readFileSync(w.inventory, 'utf8');
    writeFileSync(w.inventory, good.replace(`  - id: ${tenantId(2)}`, `  - id: ${tenantId(1).toUpperCase()}`));
    let r = w.run(fleet('plan'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^inventory.yaml:\\d+:9: duplicate tenant id \`${tenantId(1).toUpperCase()}\` \\(first at line 6\\)`, 'm'));

    writeFileSync(w.inventory, good.replace('  auth: { method: azure-cli }', '  auth: { method: access-token, token: eyJhbGciOi.secret.value }').replace('    name: Tenant 2', '    nmae: Tenant 2'));
    r = w.run(fleet('validate'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inventory.yaml:4:40: secrets are never written inline in an inventory; use \$\{env:NAME\} \(defaults\.auth\.token\)/m);
    expect(r.stderr).toMatch(/^inventory.yaml:\d+:5: unknown key `nmae`; did you mean `name`\?/m);
    expect(r.stderr).not.toContain('eyJhbGciOi.secret.value');

    writeFileSync(w.inventory, good);
    r = w.run(fleet('plan', '--tenants', 'pilto'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^inventory.yaml:5:1: --tenants pilto: matches no tenant of this inventory \(by id, name, tag or glob\); did you mean `pilot`\?/m);
    r = w.run(fleet('plan', '--shard', '5/4'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--shard 5/4: there is no shard 5 of 4');

    // Selecting by tag and glob.
    r = w.run(fleet('plan', '--tenants', 'pilot', '--format', 'json'));
    expect((JSON.parse(r.stdout) as { tenants: { id: string }[] }).tenants.map((t) => t.id)).toEqual([tenantId(1)]);
    r = w.run(fleet('plan', '--tenants', 'tenant0?-*', '--format', 'json'));
    expect((JSON.parse(r.stdout) as { tenants: { id: string }[] }).tenants.map((t) => t.id)).toEqual(w.ids);
  });

  it('a playbook that uses ${tenant.…} outside a fleet run is a located error', () => {
    w = new FleetWorkspace({ tenants: 1 });
    const r = w.run(['validate', 'smtp-auth-fleet.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^smtp-auth-fleet.yaml:\d+:\d+: `\$\{tenant\.id\}` is only known in a fleet run/m);
    const valid = w.run(fleet('validate'));
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(new RegExp(`${tenantId(1)}\\s+ok\\s+0\\s+valid`));
  });
});
