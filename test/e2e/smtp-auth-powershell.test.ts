/**
 * The powershell escape hatch through the built CLI: a refused cmdlet stops the plan at its line; an
 * SMTP AUTH write is planned as the typed change under the lockout guard; an accepted underived write
 * runs verbatim, applied and journaled (test/e2e/powershell-guard.test.ts has the hostile cases).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, playbookWith, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());


describe('powershell steps (built CLI)', () => {
  it('plans a Set-CASMailbox write as the typed change (by Guid, with its undo), guards it, applies it and journals it', async () => {
    ws = workspace();
    const file = playbookWith(
      ws,
      [
        '  - id: lock-bob',
        '    uses: powershell',
        '    with:',
        '      cmdlet: Set-CASMailbox',
        '      parameters: { Identity: bob@contoso.com, SmtpClientAuthenticationDisabled: true }',
        '      allowWrite: true',
      ].join('\n'),
    );
    const bob = ws.readState().mailboxes.find((m) => m.Name === 'bob')!;
    const plan = await cli(['plan', file, '--target', `sim:${ws.state}`, '--format', 'json']);
    expect(plan.code, plan.stderr).toBe(2);
    const change = JSON.parse(plan.stdout).steps[0].changes[0];
    expect(change).toMatchObject({ target: 'bob@contoso.com', targetId: bob.Guid, property: 'SmtpClientAuthenticationDisabled', before: null, after: true });
    expect(change.call).toEqual({ cmdlet: 'Set-CASMailbox', parameters: { Identity: bob.Guid, SmtpClientAuthenticationDisabled: true } });
    expect(change.undo).toEqual({ cmdlet: 'Set-CASMailbox', parameters: { Identity: bob.Guid, SmtpClientAuthenticationDisabled: null } });

    // It takes SMTP AUTH away from bob and the playbook reads no usage: the lockout guard refuses.
    const refused = await cli(['apply', file, '--target', `sim:${ws.state}`, '--runs-dir', ws.file('runs'), '--yes']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stderr).toContain('no usage evidence');
    expect(ws.readState().mailboxes.find((m) => m.Name === 'bob')!.SmtpClientAuthenticationDisabled).toBeNull();

    const apply = await cli(['apply', file, '--target', `sim:${ws.state}`, '--runs-dir', ws.file('runs'), '--yes', '--accept-no-usage-evidence']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(ws.readState().mailboxes.find((m) => m.Name === 'bob')!.SmtpClientAuthenticationDisabled).toBe(true);
    const [run] = readdirSync(ws.file('runs'));
    const journal = readFileSync(join(ws.file('runs'), run!, 'journal.jsonl'), 'utf8');
    expect(journal).toContain('Set-CASMailbox');
    expect(journal).toContain('bob@contoso.com');
  });

  it('journals a write that returned a non-terminating error record as failed, exits 3, and rollback restores nothing', async () => {
    ws = workspace();
    const file = playbookWith(
      ws,
      [
        '  - id: lock-ghost',
        '    uses: powershell',
        '    with:',
        '      cmdlet: Set-CASMailbox',
        '      parameters: { Identity: ghost@contoso.com, SmtpClientAuthenticationDisabled: true }',
        '      allowWrite: true',
        // ghost names no mailbox, so the write's effect cannot be derived: it runs only when accepted.
        "      acceptUnderivedEffect: { reason: 'testing how a failed write is journaled' }",
      ].join('\n'),
    );
    const before = readFileSync(ws.state, 'utf8');
    const apply = await cli(['apply', file, '--target', `sim:${ws.state}`, '--runs-dir', ws.file('runs'), '--yes']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(3);
    expect(apply.stdout + apply.stderr).toContain("couldn't be found");
    expect(apply.stderr).not.toContain('internal error');
    const [run] = readdirSync(ws.file('runs'));
    const records = readFileSync(join(ws.file('runs'), run!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const after = records.find((r) => r.type === 'after');
    expect(after).toMatchObject({ outcome: 'failed' });
    expect(after.error).toContain("object 'ghost@contoso.com' couldn't be found");
    expect(after.serviceError).toMatchObject({
      code: 'Ex6F9304',
      exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      text: expect.stringContaining("object 'ghost@contoso.com' couldn't be found"),
    });
    expect(records.find((r) => r.type === 'run-end').summary).toEqual({ applied: 0, failed: 1, skipped: 0 });

    const rollback = await cli(['rollback', join(ws.file('runs'), run!), '--target', `sim:${ws.state}`, '--runs-dir', ws.file('runs'), '--yes']);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('nothing to roll back');
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });

  it('refuses a cmdlet outside the allowlist at plan time, at its line, running nothing', async () => {
    ws = workspace();
    const before = readFileSync(ws.state, 'utf8');
    const file = playbookWith(
      ws,
      ['  - id: nuke', '    uses: powershell', '    with:', '      cmdlet: Remove-Mailbox', '      parameters: { Identity: bob@contoso.com }', '      allowWrite: true'].join('\n'),
    );
    const plan = await cli(['plan', file, '--target', `sim:${ws.state}`]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(1);
    expect(plan.stderr).toMatch(/escape\.yaml:10:\d+: .*Remove-Mailbox is not a cmdlet exo-playbook may run/);
    expect(readFileSync(ws.state, 'utf8')).toBe(before);
  });
});
