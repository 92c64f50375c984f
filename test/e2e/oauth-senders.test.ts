/**
 * smtp-auth/oauth-senders end to end, through the built CLI: two apps (one per grant kind) are
 * provisioned on a simulated tenant and through pwsh + the stub module, verified, and rolled back to
 * the exact state before; bad input is refused at its line.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findPwsh } from '../../src/exchange/find-pwsh.js';
import { assertBuilt } from './engine-support.js';
import { BILLING, OAUTH_STEPS, OAuthWorkspace, oauthTenant, playbookText, ROOT, SCANNER, withoutEmptyGrantLists } from './oauth-senders-support.js';

const pwsh = findPwsh();
const workspaces: OAuthWorkspace[] = [];
afterEach(() => workspaces.splice(0).forEach((w) => w.cleanup()));
beforeAll(() => assertBuilt());

function workspace(...args: ConstructorParameters<typeof OAuthWorkspace>): OAuthWorkspace {
  const w = new OAuthWorkspace(...args);
  workspaces.push(w);
  return w;
}

const TOKEN = `eyJ0eXAiOiJKV1QifQ.oauth-e2e-${process.pid}.c2ln`;

interface Backend {
  name: string;
  target(w: OAuthWorkspace): string[];
  env(w: OAuthWorkspace): Record<string, string>;
  playbook(): string;
}

const simulator: Backend = { name: 'simulator', target: (w) => ['--target', `sim:${w.state}`], env: () => ({}), playbook: () => playbookText() };
const stub: Backend = {
  name: 'pwsh + stub module',
  target: () => ['--target', 'exchange'],
  env: (w) => ({
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_PWSH: pwsh!.path,
    EXO_PLAYBOOK_MODULE_PATH: join(ROOT, 'test', 'fixtures', 'modules'),
    EXO_PLAYBOOK_STUB_STATE: w.state,
  }),
  playbook: () => playbookText(OAUTH_STEPS, '{ method: access-token, token: "${env:EXO_TOKEN}" }'),
};

for (const backend of [simulator, ...(pwsh ? [stub] : [])]) {
  describe(`oauth senders: ${backend.name}`, () => {
    it('plans only the differences, provisions both apps, verifies, and rolls back to the exact state before', async () => {
      const w = workspace(oauthTenant(), backend.playbook());
      const run = (args: string[]) => w.run([...args, ...backend.target(w)], backend.env(w));
      const before = w.readState();

      const plan = await run(['plan', w.playbook, '--wide']);
      expect(plan.code, plan.stderr).toBe(2);
      expect(plan.stdout).toContain('Step oauth (smtp-auth/oauth-senders): 5 changes');
      expect(plan.stdout).toMatch(/Scanner app\s+scanner@contoso\.com\s+rbac\s+Basic only\s+OAuth provisioned/);
      expect(plan.stdout).toMatch(/Billing app\s+billing@contoso\.com\s+mailbox-permission\s+Basic only\s+OAuth provisioned/);

      const html = await run(['plan', w.playbook, '--format', 'html']);
      expect(html.stdout).toContain('OAuth senders (migration state)');
      const csv = await run(['plan', w.playbook, '--format', 'csv']);
      expect(csv.stdout).toContain(`Scanner app,${SCANNER.appId},scanner@contoso.com,rbac,Basic only,OAuth provisioned,,`);

      const apply = await run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir]);
      expect(apply.code, apply.stderr).toBe(0);
      const state = w.readState();
      expect(state.servicePrincipals).toEqual([
        { AppId: SCANNER.appId, ObjectId: SCANNER.sp, DisplayName: 'Scanner app' },
        { AppId: BILLING.appId, ObjectId: BILLING.sp, DisplayName: 'Billing app' },
      ]);
      const scope = state.managementScopes![0]!;
      expect(scope.RecipientRestrictionFilter).toBe("PrimarySmtpAddress -eq 'scanner@contoso.com'");
      expect(state.managementRoleAssignments).toEqual([{ Name: scope.Name, Role: 'Application SMTP.SendAsApp', App: SCANNER.sp, CustomResourceScope: scope.Name }]);
      const billing = state.mailboxes.find((m) => m.Alias === 'billing')!;
      expect(state.mailboxPermissions).toEqual([{ Mailbox: billing.Guid, User: BILLING.sp, AccessRights: ['FullAccess'] }]);

      const verify = await run(['verify', w.playbook]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain('PASS oauth-granted scanner@contoso.com: Scanner app may send as it (Application SMTP.SendAsApp)');
      expect(verify.stdout).toContain('PASS oauth-granted billing@contoso.com: Billing app may send as it (FullAccess)');

      // Nothing left to do: a second plan writes nothing.
      const again = await run(['plan', w.playbook]);
      expect(again.code, again.stdout).toBe(0);

      const runDir = join(w.runsDir, (await import('node:fs')).readdirSync(w.runsDir).find((d) => d.endsWith('oauth-migration'))!);
      const rollback = await run(['rollback', runDir, '--yes', '--runs-dir', w.runsDir]);
      expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
      expect(rollback.stdout).toContain('PASS restored 11111111-1111-4111-8111-111111111111 ServicePrincipal: is $null again');
      expect(withoutEmptyGrantLists(w.readState())).toEqual(before);
    });
  });
}

describe('oauth senders: bad input is refused at its line', () => {
  const planOn = async (text: string, state = oauthTenant()) => {
    const w = workspace(state, text);
    return w.run(['plan', w.playbook, '--target', `sim:${w.state}`]);
  };

  it('an app id or object id that is not a GUID (exit 1, file:line:col)', async () => {
    const r = await planOn(playbookText(OAUTH_STEPS.replace(`servicePrincipalObjectId: ${BILLING.sp}`, 'servicePrincipalObjectId: billing-app')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oauth\.yaml:20:\d+: must be a GUID/);
  });

  it('the same app declared twice (exit 1, at the second)', async () => {
    const r = await planOn(playbookText(OAUTH_STEPS.replace(`appId: ${BILLING.appId}`, `appId: ${SCANNER.appId.toUpperCase()}`)));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oauth\.yaml:19:\d+: app 11111111-1111-4111-8111-111111111111 is declared twice \(first at line 15:/);
  });

  it('a mailbox that does not exist (exit 1, at the entry; nothing written)', async () => {
    const text = playbookText(OAUTH_STEPS.replace('mailboxes: [billing@contoso.com]\n', 'mailboxes: [billing@contoso.com, ghost@contoso.com]\n'));
    const w = workspace(oauthTenant(), text);
    const r = await w.run(['apply', w.playbook, '--yes', '--target', `sim:${w.state}`, '--runs-dir', w.runsDir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oauth\.yaml:23:\d+: step 'oauth': 'ghost@contoso\.com' \(app Billing app\) matches no mailbox in the tenant/);
    expect(w.readState().servicePrincipals).toBeUndefined();
  });

  it('a mailbox that is not on the allowlist (exit 1, at the entry)', async () => {
    const r = await planOn(playbookText(OAUTH_STEPS.replace('mailboxes: [billing@contoso.com]\n', 'mailboxes: [billing@contoso.com, alice@contoso.com]\n')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/oauth\.yaml:23:\d+: .*'alice@contoso\.com' \(app Billing app\) is not on the allowlist \(step 'allow'\)/);
  });

  it('a service principal whose app id exists with another object id: refused (exit 4), both ids named', async () => {
    const state = oauthTenant();
    state.servicePrincipals = [{ AppId: SCANNER.appId, ObjectId: SCANNER.registration, DisplayName: 'Scanner app' }];
    const r = await planOn(playbookText(), state);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`Exchange has a service principal for app ${SCANNER.appId} with object id ${SCANNER.registration}, but the playbook declares app ${SCANNER.appId} with object id ${SCANNER.sp}`);
  });
});

describe('oauth senders: exclusive', () => {
  it('removes the SMTP.SendAsApp grants the playbook does not name, and rollback puts them back', async () => {
    const state = oauthTenant();
    const stray = { Name: 'manual grant', Role: 'Application SMTP.SendAsApp', App: SCANNER.sp, CustomResourceScope: 'bob only' };
    state.servicePrincipals = [{ AppId: SCANNER.appId, ObjectId: SCANNER.sp, DisplayName: 'Scanner app' }];
    state.managementScopes = [{ Name: 'bob only', RecipientRestrictionFilter: "PrimarySmtpAddress -eq 'bob@contoso.com'" }];
    state.managementRoleAssignments = [stray];
    const w = workspace(state, playbookText(OAUTH_STEPS.replace('      applications:', '      exclusive: true\n      applications:')));
    const sim = ['--target', `sim:${w.state}`];
    const plan = await w.run(['plan', w.playbook, ...sim]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/bob@contoso\.com\s+ManagementRoleAssignment/);
    expect(plan.stdout).toContain('the playbook does not name bob@contoso.com for this app');
    const apply = await w.run(['apply', w.playbook, '--yes', '--runs-dir', w.runsDir, ...sim]);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(w.readState().managementRoleAssignments!.some((a) => a.Name === 'manual grant')).toBe(false);
    const runDir = join(w.runsDir, (await import('node:fs')).readdirSync(w.runsDir)[0]!);
    const rollback = await w.run(['rollback', runDir, '--yes', '--runs-dir', w.runsDir, ...sim]);
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(withoutEmptyGrantLists(w.readState())).toEqual(state);
  });
});
