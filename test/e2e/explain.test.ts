/** `exo-playbook explain` from the built CLI: without a target, and against a simulated tenant. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, driftedTenant, PLAYBOOK } from './engine-support.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'exo-explain-'));
  writeFileSync(join(dir, 'playbook.yaml'), PLAYBOOK);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[]) => execa('node', [CLI, ...args], { cwd: dir, reject: false, env: { NO_COLOR: '1' } });

describe('exo-playbook explain', () => {
  it('without a target prints every read and the templated writes, as runnable PowerShell', async () => {
    const result = await cli(['explain', 'playbook.yaml']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $true -Confirm:$false');
    expect(lines).toContain("Get-EXOCASMailbox -ResultSize 'Unlimited' -Properties @('SmtpClientAuthenticationDisabled')");
    // Everything that is not a call is a comment.
    expect(lines.filter((l) => l && !l.startsWith('#')).every((l) => /^[A-Z][a-z]+-[A-Za-z]+( |$)/.test(l))).toBe(true);
  });

  it('with --target prints only the writes the plan needs, and none on a compliant tenant', async () => {
    const state = driftedTenant(2);
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    const drifted = await cli(['explain', 'playbook.yaml', '--target', 'sim:state.json']);
    expect(drifted.exitCode, drifted.stderr).toBe(0);
    const calls = drifted.stdout.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(calls).toContain('Set-TransportConfig -SmtpClientAuthenticationDisabled $true -Confirm:$false');
    // Writes name the mailbox by the Guid the bulk read returned.
    const stray01 = state.mailboxes.find((m) => m.Name === 'stray01')!.Guid;
    expect(calls).toContain(`Set-CASMailbox -Identity '${stray01}' -SmtpClientAuthenticationDisabled $null -Confirm:$false`);
    expect(calls.every((l) => /^Set-/.test(l))).toBe(true);

    const json = JSON.parse((await cli(['explain', 'playbook.yaml', '--target', 'sim:state.json', '--format', 'json'])).stdout);
    const sent = json.steps.flatMap((s: { writes: { cmdlet?: string }[] }) => s.writes).filter((w: { cmdlet?: string }) => w.cmdlet);
    expect(sent.length).toBe(calls.length);

    const compliant = driftedTenant(0);
    compliant.transportConfig.SmtpClientAuthenticationDisabled = true;
    compliant.mailboxes.find((m) => m.Name === 'device')!.SmtpClientAuthenticationDisabled = false;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(compliant));
    const quiet = await cli(['explain', 'playbook.yaml', '--target', 'sim:state.json']);
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
    expect(quiet.stdout).toContain('# nothing to write');
  });
});
