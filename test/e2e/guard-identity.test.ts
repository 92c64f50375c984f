/**
 * Writes and read-backs name the mailbox by the immutable id the bulk read returned (issue 10, point
 * 3): where an address is ambiguous (here adele's UPN is stray1's primary address, and the tenant
 * resolves that address to adele, who claims it first), the write lands on the mailbox the plan
 * observed. Through the in-process simulator and through pwsh + the stub module.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import { cli, driftedTenant, mailbox, stubEnvironment, switches, workspace, type Workspace } from './smtp-auth-support.js';

const pwsh = findPwsh();
if (!pwsh && process.env.CI === 'true') throw new Error('pwsh is required under CI: run `npm run ensure-pwsh`');

let ws: Workspace | undefined;
afterEach(() => ws?.cleanup());

function ambiguousWorkspace(): Workspace {
  const base = driftedTenant();
  // adele keeps an explicit $true (explicitDisabled: keep leaves it): a write meant for stray1 that
  // lands on her would reset it to $null.
  const adele = mailbox('adele', true, { UserPrincipalName: 'stray1@contoso.com' });
  const w = workspace({ tenant: { ...base, mailboxes: [adele, ...base.mailboxes] } });
  const text = readFileSync(w.playbook, 'utf8').replace(
    /auth: \{ method: certificate[^\n]*\}/,
    'auth: { method: access-token, token: "${env:EXO_TOKEN}" }',
  );
  writeFileSync(w.playbook, text);
  return w;
}

const TOKEN = 'eyJ0eXAiOiJKV1QifQ.guard-identity.c2ln';

const backends: [string, (w: Workspace) => { target: string[]; env: Record<string, string> }][] = [
  ['simulator', (w) => ({ target: ['--target', `sim:${w.state}`], env: { EXO_TOKEN: TOKEN } })],
  [
    'pwsh + stub module',
    (w) => ({
      target: ['--target', 'exchange'],
      env: { EXO_TOKEN: TOKEN, ...stubEnvironment(w, pwsh?.path) },
    }),
  ],
];

describe.each(backends)('writes by immutable id (%s)', (_name, backend) => {
  it('the write lands on the observed mailbox, and the journal keeps both the id and the address', async () => {
    ws = ambiguousWorkspace();
    const stray1 = ws.readState().mailboxes.find((m) => m.Name === 'stray1')!;
    const { target, env } = backend(ws);
    const apply = await cli(['apply', ws.playbook, ...target, '--runs-dir', ws.file('runs'), '--yes', '--accept-breakage', 'alice@contoso.com'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    const after = switches(ws.readState());
    expect(after['stray1@contoso.com']).toBeNull();
    expect(after['adele@contoso.com']).toBe(true);

    const [dir] = readdirSync(ws.file('runs'));
    const records = readFileSync(join(ws.file('runs'), dir!, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const write = records.find((r) => r.type === 'before' && r.target === 'stray1@contoso.com');
    expect(write).toMatchObject({ target: 'stray1@contoso.com', targetId: stray1.Guid, parameters: { Identity: stray1.Guid } });

    // Rollback reads back and writes by the same id.
    const rollback = await cli(['rollback', join(ws.file('runs'), dir!), ...target, '--runs-dir', ws.file('runs'), '--yes'], env);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    const restored = switches(ws.readState());
    expect(restored['stray1@contoso.com']).toBe(false);
    expect(restored['adele@contoso.com']).toBe(true);
  });
});
