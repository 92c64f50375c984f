import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffFiles } from '../../src/diff/run.js';
import { renderDiffText } from '../../src/diff/render-text.js';
import { ALLOWLIST, ALLOWLIST_CHANGED, BASE, COSMETIC } from './helpers.js';

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Two folders a/ and b/, each with a playbook and its allowlist. */
async function sides(a: [string, string], b: [string, string]): Promise<[string, string]> {
  dir = await mkdtemp(join(tmpdir(), 'diff-'));
  const out: string[] = [];
  for (const [name, [playbook, allowlist]] of [['a', a], ['b', b]] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'playbook.yaml'), playbook);
    await writeFile(join(dir, name, 'allowlist.txt'), allowlist);
    out.push(join(dir, name, 'playbook.yaml'));
  }
  return out as [string, string];
}

describe('diff of two files', () => {
  it('finds no change in comments, key order, quoting, flow style or a spelled-out default', async () => {
    const [a, b] = await sides([BASE, ALLOWLIST], [COSMETIC, ALLOWLIST.replace('# 3rd floor', '')]);
    const report = await diffFiles(a, b);
    expect(report.diffs[0]!.changes).toEqual([]);
    expect(report.changed).toBe(false);
    expect(renderDiffText(report)).toContain('No meaningful changes');
  });

  it('marks accepting "no usage evidence" as a sensitive change a reviewer must see', async () => {
    const accepted = BASE.replace(/^steps:/m, 'acceptNoUsageEvidence: { reason: "devices moved to the relay (CHG0042)" }\nsteps:');
    expect(accepted).not.toBe(BASE);
    const [a, b] = await sides([BASE, ALLOWLIST], [accepted, ALLOWLIST]);
    const report = await diffFiles(a, b);
    expect(report.changed).toBe(true);
    expect(report.sensitive).toBe(true);
    expect(renderDiffText(report)).toContain('acceptNoUsageEvidence');
  });

  it('names the allowlist addresses added and removed, and the file they are in', async () => {
    const [a, b] = await sides([BASE, ALLOWLIST], [BASE, ALLOWLIST_CHANGED]);
    const report = await diffFiles(a, b);
    expect(report.changed).toBe(true);
    expect(report.sensitive).toBe(false);
    const changes = report.diffs[0]!.changes;
    expect(changes.map((c) => [c.kind, c.path, c.addresses, c.source])).toEqual([
      ['allowlist-added', 'steps.allow.with.mailboxes', ['crm@contoso.com'], 'allowlist.txt'],
      ['allowlist-removed', 'steps.allow.with.mailboxes', ['printer@contoso.com'], 'allowlist.txt'],
    ]);
    const text = renderDiffText(report);
    expect(text).toContain('+ steps.allow.with.mailboxes (allowlist.txt): added crm@contoso.com');
    expect(text).toContain('- steps.allow.with.mailboxes (allowlist.txt): removed printer@contoso.com');
  });

  it('marks tenant, sign-in and acceptBreakage changes sensitive, and shows env references, not values', async () => {
    const changed = BASE.replace('method: certificate, appId: "${env:EXO_APP_ID}"', 'method: certificate, appId: "${env:OTHER_APP_ID}"')
      .replace('organization: contoso.onmicrosoft.com', 'organization: fabrikam.onmicrosoft.com')
      .replace('vars:', 'acceptBreakage: [legacy@contoso.com]\nvars:');
    const [a, b] = await sides([BASE, ALLOWLIST], [changed, ALLOWLIST]);
    const report = await diffFiles(a, b);
    const byPath = Object.fromEntries(report.diffs[0]!.changes.map((c) => [c.path, c]));
    expect(byPath['tenant.organization']).toMatchObject({ sensitive: true, before: 'contoso.onmicrosoft.com', after: 'fabrikam.onmicrosoft.com' });
    expect(byPath['tenant.auth.appId']).toMatchObject({ sensitive: true, before: '${env:EXO_APP_ID}', after: '${env:OTHER_APP_ID}' });
    expect(byPath['acceptBreakage']).toMatchObject({ kind: 'breakage-accepted', sensitive: true, addresses: ['legacy@contoso.com'] });
    expect(JSON.stringify(report)).not.toContain('placeholder');
    expect(renderDiffText(report)).toContain('! ~ tenant.organization: contoso.onmicrosoft.com → fabrikam.onmicrosoft.com');
  });

  it('reports steps added, removed, moved and settings changed', async () => {
    const changed = BASE.replace(
      `  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: "\${vars.allow}", exclusive: true }`,
      `  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: "\${vars.allow}", exclusive: false }
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }`,
    ).replace(`  - id: usage
    uses: smtp-auth/usage
    with: { days: 7, notifyAddress: admin@contoso.com }
`, '') + `  - id: probe
    uses: powershell
    with: { cmdlet: Get-OrganizationConfig }
`;
    const [a, b] = await sides([BASE, ALLOWLIST], [changed, ALLOWLIST]);
    const report = await diffFiles(a, b);
    const summary = report.diffs[0]!.changes.map((c) => `${c.kind} ${c.path}`);
    expect(summary).toEqual([
      'step-removed steps.usage',
      'step-added steps.probe',
      'step-moved steps.org',
      'setting-changed steps.allow.with.exclusive',
    ]);
  });
});
