/**
 * Issue 24, point 1, through the built CLI: a `powershell` step cannot walk around the lockout guard.
 * The hostile playbooks are fixtures (test/fixtures/guard-bypass): a Set-CASMailbox and a
 * Set-TransportConfig that would cut an active sender off are refused (exit 4, the sender named) and
 * leave the tenant as it was; a write whose effect the runner cannot derive is refused unless the step
 * accepts it with a reason; a write unrelated to SMTP AUTH still runs; rollback of a guarded write
 * restores the exact tri-state before-value. The main case runs on the simulator and on pwsh + the stub.
 */
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import { cli, ROOT, stubEnvironment, switches, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

const FIXTURES = join(ROOT, 'test', 'fixtures', 'guard-bypass');
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.powershell-guard.c2ln';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

/** The drifted tenant (alice: active Basic sender, $null; organization on) and the fixture playbook next to its usage report. */
function withFixture(name: string): { w: Workspace; playbook: string } {
  const w = workspace();
  ws = w;
  copyFileSync(join(FIXTURES, 'clients-report.csv'), w.file('clients-report.csv'));
  const playbook = w.file(name);
  // The stub signs in with a token; the simulator ignores sign-in.
  writeFileSync(playbook, readFileSync(join(FIXTURES, name), 'utf8').replace('auth: { method: azure-cli }', 'auth: { method: access-token, token: "${env:EXO_TOKEN}" }'));
  return { w, playbook };
}

type Backend = (w: Workspace) => { target: string[]; env: Record<string, string> };
const simulator: Backend = (w) => ({ target: ['--target', `sim:${w.state}`], env: { EXO_TOKEN: TOKEN } });
const stub: Backend = (w) => ({
  target: ['--target', 'exchange'],
  env: { EXO_TOKEN: TOKEN, ...stubEnvironment(w, pwsh?.path) },
});
const backends: [string, Backend][] = [
  ['simulator', simulator],
  ...(pwsh || process.env.CI === 'true' ? ([['pwsh + stub module', stub]] as [string, Backend][]) : []),
];

function runDir(w: Workspace): string {
  const runs = readdirSync(w.file('runs'));
  expect(runs).toHaveLength(1);
  return join(w.file('runs'), runs[0]!);
}

describe.each(backends)('a powershell Set-CASMailbox meets the lockout guard (%s)', (_name, backend) => {
  it('is refused (exit 4, the sender named) and the tenant is unchanged', async () => {
    const { w, playbook } = withFixture('cas-bypass.yaml');
    const before = readFileSync(w.state, 'utf8');
    const { target, env } = backend(w);
    const apply = await cli(['apply', playbook, ...target, '--runs-dir', w.file('runs'), '--yes'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toContain('1 sender would lose SMTP AUTH (blocking risks); nothing was written');
    expect(apply.stderr).toMatch(/alice@contoso\.com: loses SMTP AUTH .*the mailbox is set to \$true/);
    expect(apply.stderr).not.toContain('internal error');
    expect(readFileSync(w.state, 'utf8')).toBe(before);

    // verify checks the step's switch like the actions' (alice still $null: drift, exit 2).
    const verify = await cli(['verify', playbook, ...target], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(2);
    expect(verify.stdout).toMatch(/FAIL powershell-smtp-auth alice@contoso\.com: SmtpClientAuthenticationDisabled is \$null, the step wants \$true/);
  });

  it('runs once the playbook accepts the breakage, and rollback restores the exact $null', async () => {
    const { w, playbook } = withFixture('cas-bypass-accepted.yaml');
    const { target, env } = backend(w);
    const apply = await cli(['apply', playbook, ...target, '--runs-dir', w.file('runs'), '--yes'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(switches(w.readState())['alice@contoso.com']).toBe(true);
    const dir = runDir(w);
    const records = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const alice = w.readState().mailboxes.find((m) => m.Name === 'alice')!;
    expect(records.find((r) => r.type === 'before')).toMatchObject({ target: 'alice@contoso.com', targetId: alice.Guid, property: 'SmtpClientAuthenticationDisabled', before: null, after: true });

    const rollback = await cli(['rollback', dir, ...target, '--runs-dir', w.file('runs'), '--yes'], env);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    // $null (follows the organization), not $false: the tri-state value comes back exactly.
    expect(switches(w.readState())['alice@contoso.com']).toBeNull();
  });
});

describe('a powershell Set-TransportConfig meets the lockout guard (simulator)', () => {
  it('is refused (exit 4) naming every active sender that follows the organization, tenant unchanged', async () => {
    const { w, playbook } = withFixture('org-bypass.yaml');
    const before = readFileSync(w.state, 'utf8');
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toContain('2 senders would lose SMTP AUTH (blocking risks); nothing was written');
    expect(apply.stderr).toMatch(/alice@contoso\.com: loses SMTP AUTH .*the organization goes off/);
    expect(apply.stderr).toMatch(/scanner@contoso\.com: loses SMTP AUTH/);
    expect(readFileSync(w.state, 'utf8')).toBe(before);
  });

  it('the prompt-free apply with accepted breakage turns the organization off; rollback turns it back on', async () => {
    const { w, playbook } = withFixture('org-bypass.yaml');
    const plan = await cli(['plan', playbook, '--target', `sim:${w.state}`], { EXO_TOKEN: TOKEN });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/Organization\s+SmtpClientAuthenticationDisabled\s+\$false -> \$true/);
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'all'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    const rollback = await cli(['rollback', runDir(w), '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes']);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
  });
});

describe('explain (no target)', () => {
  it('shows a derived write as the typed change under the lockout guard, an underived one as refused', async () => {
    const { playbook: derived } = withFixture('cas-bypass.yaml');
    const typed = await cli(['explain', derived], { EXO_TOKEN: TOKEN });
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.stdout).toContain("Get-CASMailbox -Identity 'alice@contoso.com'");
    expect(typed.stdout).toContain("when alice@contoso.com's switch is not already $true (a typed change under the lockout guard; rollback restores it)");
    ws?.cleanup();
    const { playbook: underived } = withFixture('abbreviated-parameter.yaml');
    const refused = await cli(['explain', underived], { EXO_TOKEN: TOKEN });
    expect(refused.code, refused.stderr).toBe(0);
    expect(refused.stdout).toContain('refused by apply (exit 4): its effect on SMTP AUTH is not derived (-SmtpClientAuth is an abbreviation');
  });
});

describe('acceptUnderivedEffect (simulator)', () => {
  it('does not cover a write the runner derives: the guard still names the sender', async () => {
    const { w, playbook } = withFixture('cas-bypass-wrong-acceptance.yaml');
    const before = readFileSync(w.state, 'utf8');
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toMatch(/alice@contoso\.com: loses SMTP AUTH/);
    expect(readFileSync(w.state, 'utf8')).toBe(before);
  });

  it.each([
    ['abbreviated-parameter.yaml', /-SmtpClientAuth is an abbreviation PowerShell may bind to -SmtpClientAuthenticationDisabled/],
    ['alias-identity.yaml', /-Identity 'alice' is not a mailbox address or Guid/],
  ])('refuses %s (exit 4) with the reason, the tenant unchanged', async (name, why) => {
    const { w, playbook } = withFixture(name);
    const before = readFileSync(w.state, 'utf8');
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes', '--accept-breakage', 'all'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(4);
    expect(apply.stderr).toContain("1 powershell write whose effect on SMTP AUTH cannot be derived (blocking risks); nothing was written");
    expect(apply.stderr).toMatch(why);
    expect(apply.stderr).toContain('acceptUnderivedEffect');
    expect(readFileSync(w.state, 'utf8')).toBe(before);
  });

  it('with a reason, the underived write runs verbatim, and plan, explain and the journal show the reason', async () => {
    const { w, playbook } = withFixture('underived-accepted.yaml');
    const reason = "CHG0099: alice's device was retired on 2026-12-01";
    const plan = await cli(['plan', playbook, '--target', `sim:${w.state}`], { EXO_TOKEN: TOKEN });
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(`accepted step 'cut-alice' (Set-CASMailbox)`);
    expect(plan.stdout).toContain(reason);
    const explain = await cli(['explain', playbook], { EXO_TOKEN: TOKEN });
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stdout).toContain(`accepted by acceptUnderivedEffect: ${reason}`);

    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(switches(w.readState())['alice@contoso.com']).toBe(true);
    const records = readFileSync(join(runDir(w), 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.find((r) => r.type === 'before')).toMatchObject({ cmdlet: 'Set-CASMailbox', property: '(run)', accepted: `acceptUnderivedEffect: ${reason}` });
  });
});

describe('a powershell write unrelated to SMTP AUTH (simulator)', () => {
  it('runs with no acceptance', async () => {
    const { w, playbook } = withFixture('unrelated-write.yaml');
    const before = switches(w.readState());
    const apply = await cli(['apply', playbook, '--target', `sim:${w.state}`, '--runs-dir', w.file('runs'), '--yes'], { EXO_TOKEN: TOKEN });
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(w.readState().historicalSearches).toEqual([expect.objectContaining({ ReportTitle: 'escape-hatch-search', ReportType: 'MessageTrace' })]);
    expect(switches(w.readState())).toEqual(before);
    expect(w.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
  });
});
