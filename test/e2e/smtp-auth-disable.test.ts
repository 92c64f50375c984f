/**
 * The disable playbook end to end through the built CLI on a simulated tenant (run `npm run build` first).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, switches, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

const target = (w: Workspace) => ['--target', `sim:${w.state}`];
/** apply also writes a run directory: keep it in the workspace. */
const runs = (w: Workspace) => ['--runs-dir', w.file('runs')];

describe('smtp-auth-disable playbook (simulated tenant, built CLI)', () => {
  it('plans, is refused by the lockout guard, applies with the sender accepted, and verifies compliant', async () => {
    ws = workspace();
    const before = readFileSync(ws.state, 'utf8');

    const plan = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain('alice@contoso.com');
    expect(plan.stdout).toContain('stray1@contoso.com');

    const refused = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stdout + refused.stderr).toContain('alice@contoso.com');
    expect(readFileSync(ws.state, 'utf8')).toBe(before);

    const applied = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);

    const after = ws.readState();
    const was = JSON.parse(before);
    expect(after.transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    expect(switches(after)).toEqual({
      'scanner@contoso.com': false, // allowlisted
      'erp@contoso.com': false, // allowlisted (by its onmicrosoft address), already $false
      'stray1@contoso.com': null, // stray $false → inherit
      'stray2@contoso.com': null,
      'locked@contoso.com': true, // explicitDisabled: keep
      'alice@contoso.com': null,
      'bob@contoso.com': null,
      'carol@contoso.com': null,
    });
    // Nothing else touched: the state equals the old one with exactly those switches changed.
    const expected = structuredClone(was);
    expected.transportConfig.SmtpClientAuthenticationDisabled = true;
    for (const m of expected.mailboxes) m.SmtpClientAuthenticationDisabled = switches(after)[m.PrimarySmtpAddress];
    expect({ ...after, clock: expected.clock }).toEqual(expected);

    const verify = await cli(['verify', ws.playbook, ...target(ws)]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // A second apply finds nothing to do.
    const again = await cli(['plan', ws.playbook, ...target(ws)]);
    expect(again.code, again.stdout).toBe(0);
  });

  it("the playbook's acceptBreakage lets apply through without the flag", async () => {
    ws = workspace({ acceptBreakage: ['alice@contoso.com'] });
    const applied = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(ws.readState().transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
  });

  it('an unknown allowlist entry stops the plan with a located error and writes nothing', async () => {
    ws = workspace({ allowlist: '# devices\nscanner@contoso.com\n\nghost@contoso.com   # gone\n' });
    const before = readFileSync(ws.state, 'utf8');
    const commands = [
      ['plan', ws.playbook, ...target(ws)],
      ['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'all'],
    ];
    for (const args of commands) {
      const result = await cli(args);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toMatch(/allowlist\.txt:4:1: .*'ghost@contoso\.com' matches no mailbox/);
      expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    }
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('verify names an offender re-enabled behind the playbook\'s back (exit 2) and flags a policy-blocked allowlisted mailbox', async () => {
    ws = workspace();
    const applied = await cli(['apply', ws.playbook, ...target(ws), ...runs(ws), '--yes', '--accept-breakage', 'alice@contoso.com']);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    const state = ws.readState();
    state.mailboxes.find((m) => m.Name === 'bob')!.SmtpClientAuthenticationDisabled = false;
    state.mailboxes.find((m) => m.Name === 'scanner')!.AuthenticationPolicy = 'Block Basic SMTP';
    writeFileSync(ws.state, JSON.stringify(state, null, 2));

    const verify = await cli(['verify', ws.playbook, ...target(ws), '--format', 'json']);
    expect(verify.code, verify.stderr).toBe(2);
    const report = JSON.parse(verify.stdout) as { findings: { status: string; check: string; subject: string; message: string }[] };
    const fails = report.findings.filter((f) => f.status === 'fail');
    expect(fails.map((f) => f.subject)).toContain('bob@contoso.com');
    expect(fails.find((f) => f.subject === 'bob@contoso.com')!.message).toContain('explicit $false');
    expect(report.findings).toContainEqual(
      expect.objectContaining({ status: 'warn', check: 'allowlisted-basic-auth', subject: 'scanner@contoso.com' }),
    );
  });
});
