/**
 * `verify` says each fact once: the shipped disable playbook has an allowlist step and a verify step
 * that both know the allowlist; a reviewer must see each allowlisted mailbox once, not twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cli, driftedTenant, workspace, type Workspace } from './smtp-auth-support.js';

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

/** The end state the disable playbook asks for: organization off, scanner and erp $false, no stray $false. */
function compliantTenant() {
  const state = driftedTenant();
  state.transportConfig.SmtpClientAuthenticationDisabled = true;
  for (const m of state.mailboxes) if (m.Name === 'stray1' || m.Name === 'stray2') m.SmtpClientAuthenticationDisabled = null;
  for (const m of state.mailboxes) if (m.Name === 'scanner') m.SmtpClientAuthenticationDisabled = false;
  return state;
}

const lines = (text: string, needle: string) => text.split('\n').filter((line) => line.includes(needle));

describe('verify of smtp-auth-disable.yaml lists each finding once', () => {
  it('a compliant tenant: each allowlisted mailbox has one allowlisted-on finding (text and json)', async () => {
    ws = workspace({ tenant: compliantTenant() });
    const text = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`]);
    expect(text.code, text.stdout + text.stderr).toBe(0);
    // The usage step adds its own fact per sender (the dossier: a Basic sender breaks at the end of
    // December 2026), once; the allowlist fact is said once, by the verify step.
    // (The advice block names the senders each advice applies to: "2 senders: scanner@…, …".)
    const allowLines = (subject: string) => lines(text.stdout, subject).filter((l) => !l.includes('basic-smtp-deadline') && !l.includes('usage-sender') && !/^\s+(\d+ senders|sender):/.test(l));
    expect(allowLines('scanner@contoso.com'), text.stdout).toHaveLength(1);
    expect(allowLines('erp@contoso.com')).toHaveLength(1);
    expect(lines(text.stdout, 'WARN basic-smtp-deadline scanner@contoso.com')).toHaveLength(1);

    const json = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`, '--format', 'json']);
    const findings = (JSON.parse(json.stdout) as { findings: { stepId: string; check: string; subject: string; status: string }[] }).findings;
    for (const subject of ['scanner@contoso.com', 'erp@contoso.com']) {
      expect(findings.filter((f) => f.subject === subject && f.stepId !== 'usage')).toEqual([expect.objectContaining({ stepId: 'verify', check: 'allowlisted-on', status: 'pass' })]);
    }
    expect(findings.filter((f) => f.stepId === 'allow')).toEqual([]);
    // The organization too: the verify step says it, the transport-config step does not repeat it.
    expect(findings.filter((f) => f.check === 'organization-off')).toEqual([expect.objectContaining({ stepId: 'verify', status: 'pass' })]);
  });

  it('a stray explicit $false is named once, by the verify step', async () => {
    const state = compliantTenant();
    state.mailboxes.find((m) => m.Name === 'bob')!.SmtpClientAuthenticationDisabled = false;
    ws = workspace({ tenant: state });
    const verify = await cli(['verify', ws.playbook, '--target', `sim:${ws.state}`]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(2);
    expect(lines(verify.stdout, 'bob@contoso.com')).toHaveLength(1);
  });
});
