/** smtp-auth/oauth-senders in `diff`: a grant added or removed is a sensitive change, named by app and mailbox. */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffFiles } from '../../src/diff/run.js';
import { renderDiffText } from '../../src/diff/render-text.js';

const PLAYBOOK = `apiVersion: exo-playbook/v1
name: oauth-migration
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: azure-cli }
steps:
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [scanner@contoso.com, copier@contoso.com] }
  - id: oauth
    uses: smtp-auth/oauth-senders
    with:
      applications:
        - appId: 11111111-1111-4111-8111-111111111111
          servicePrincipalObjectId: aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa
          displayName: Scanner app
          mailboxes: [scanner@contoso.com]
`;

let dir: string;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function diff(a: string, b: string) {
  dir = await mkdtemp(join(tmpdir(), 'diff-oauth-'));
  for (const [name, text] of [['a', a], ['b', b]] as const) {
    await mkdir(join(dir, name));
    await writeFile(join(dir, name, 'playbook.yaml'), text);
  }
  return diffFiles(join(dir, 'a', 'playbook.yaml'), join(dir, 'b', 'playbook.yaml'));
}

describe('diff of oauth senders', () => {
  it('shows a new grant and a removed grant as sensitive, by app and mailbox', async () => {
    const moved = PLAYBOOK.replace('mailboxes: [scanner@contoso.com]\n', 'mailboxes: [copier@contoso.com]\n');
    const report = await diff(PLAYBOOK, moved);
    expect(report.sensitive).toBe(true);
    const text = renderDiffText(report);
    expect(text).toContain('! + steps.oauth.with.applications: Scanner app (11111111-1111-4111-8111-111111111111) may send as copier@contoso.com (rbac)');
    expect(text).toContain('! - steps.oauth.with.applications: Scanner app (11111111-1111-4111-8111-111111111111) no longer sends as scanner@contoso.com (rbac)');
  });

  it('shows another grant kind as a grant removed and one added; a display name change is not sensitive', async () => {
    const kind = PLAYBOOK.replace('displayName: Scanner app\n', 'displayName: Scanner\n          grant: mailbox-permission\n');
    const report = await diff(PLAYBOOK, kind);
    const text = renderDiffText(report);
    expect(text).toContain('may send as scanner@contoso.com (mailbox-permission)');
    expect(text).toContain('no longer sends as scanner@contoso.com (rbac)');
    expect(text).toMatch(/^ {4}~ steps\.oauth\.with\.applications\.11111111-1111-4111-8111-111111111111\.displayName: Scanner app → Scanner$/m);
  });

  it('finds nothing when only the spelling of the same grants changed', async () => {
    const same = PLAYBOOK.replace('mailboxes: [scanner@contoso.com]', 'mailboxes:\n            - Scanner@Contoso.com').replace('displayName: Scanner app', 'displayName: "Scanner app"\n          grant: rbac');
    const report = await diff(PLAYBOOK, same);
    expect(report.diffs[0]!.changes).toEqual([]);
  });
});
