/**
 * A workspace for probe tests: a small tenant (canary allowlisted with $false, organization off,
 * `other` following the organization) and a playbook with two probes.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TenantState } from '../../src/exchange/simulator/state.js';
import { mailbox, tenant } from '../support/tenant.js';

export const CANARY_PASSWORD = 'Canary-3f9d1c7b5a2e48e6-Long-Random';
export const OTHER_PASSWORD = 'Other-Canary-91b2c3d4e5f60718-Random';

export function probeTenant(): TenantState {
  return tenant([mailbox('canary', false), mailbox('other', null), mailbox('alice', null)], {
    transportConfig: { SmtpClientAuthenticationDisabled: true },
  });
}

export interface ProbeWorkspace {
  dir: string;
  state: string;
  playbook: string;
  cleanup(): void;
}

/** `endpoint` adds host/port/caFile to both probes (a loopback server); without it they use the defaults. */
export function probeWorkspace(state: TenantState = probeTenant(), endpoint?: { port: number; caFile: string }): ProbeWorkspace {
  const dir = mkdtempSync(join(tmpdir(), 'exo-probe-'));
  const stateFile = join(dir, 'tenant.json');
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  writeFileSync(join(dir, 'other.secret'), `${OTHER_PASSWORD}\n`, { mode: 0o600 });
  // caFile: is confined to the playbook's folder like every path a playbook names: a copy beside it.
  if (endpoint) copyFileSync(endpoint.caFile, join(dir, 'ca.pem'));
  const where = endpoint ? [`      host: 127.0.0.1`, `      port: ${endpoint.port}`, '      caFile: ca.pem', '      timeoutSeconds: 60'] : [];
  const playbook = join(dir, 'canary-probe.yaml');
  writeFileSync(
    playbook,
    [
      'apiVersion: exo-playbook/v1',
      'name: canary-probe',
      'tenant:',
      '  organization: contoso.onmicrosoft.com',
      '  auth: { method: azure-cli }',
      'steps:',
      '  - id: allowlisted',
      '    uses: smtp-auth/probe',
      '    with:',
      '      mailbox: canary@contoso.onmicrosoft.com',
      '      password: "${env:CANARY_PASSWORD}"',
      '      expect: accepted',
      ...where,
      '  - id: outside',
      '    uses: smtp-auth/probe',
      '    with:',
      '      mailbox: other@contoso.com',
      '      password: "${file:other.secret}"',
      '      expect: [tenant-disabled, mailbox-disabled]',
      ...where,
      '',
    ].join('\n'),
  );
  return { dir, state: stateFile, playbook, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
