/**
 * Service principals, management scopes, role assignments to apps and mailbox permissions: one
 * scripted provisioning (and its undoing) against the simulator and against pwsh + the stub module;
 * the results (objects, warnings, error records) and the state files they leave must be equal, and
 * the behaviours the OAuth-senders step relies on are asserted on each.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { CmdletFailure, type ExchangeSession, type PsValue } from '../../../src/exchange/session.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { primarySmtpAddressFilter } from '../../../src/exchange/opath.js';
import { fixtureTenant, noPwsh } from '../pwsh/pwsh-for-tests.js';
import { SharedStubHost } from '../pwsh/shared-host.js';
import { normalizeRecord, readState, stateFileFor, type Backend } from './session-behaviours.js';

const APP_A = { appId: '11111111-1111-4111-8111-111111111111', sp: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', registration: 'abababab-abab-4bab-8bab-abababababab' };
const APP_B = { appId: '22222222-2222-4222-8222-222222222222', sp: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb' };

function tenant(): TenantState {
  return fixtureTenant((state) => {
    state.entra = {
      applications: [
        { appId: APP_A.appId, servicePrincipalObjectId: APP_A.sp, applicationObjectId: APP_A.registration, displayName: 'Scanner' },
        { appId: APP_B.appId, servicePrincipalObjectId: APP_B.sp, displayName: 'Billing', smtpSendAsAppConsented: true },
      ],
    };
  });
}

/** Every call's outcome as data: objects, warnings, error records (FullyQualifiedErrorId without the function suffix). */
async function scripted(session: ExchangeSession, initial: TenantState): Promise<PsValue[]> {
  const out: PsValue[] = [];
  const call = async (cmdlet: string, parameters: Record<string, PsValue> = {}) => {
    try {
      const r = await session.invoke(cmdlet, parameters);
      out.push({ cmdlet, objects: r.objects, warnings: r.warnings, errors: r.errors.map((e) => ({ ...normalizeRecord(cmdlet, e) })) });
    } catch (error) {
      if (!(error instanceof CmdletFailure)) throw error;
      out.push({ cmdlet, failure: { ...normalizeRecord(cmdlet, error.record) } });
    }
  };
  const [m1, m2] = [initial.mailboxes[1]!, initial.mailboxes[2]!];
  // The classic mistake: the app registration's object id.
  await call('New-ServicePrincipal', { AppId: APP_A.appId, ObjectId: APP_A.registration, DisplayName: 'Scanner' });
  await call('New-ServicePrincipal', { AppId: APP_A.appId, ObjectId: APP_A.sp, DisplayName: 'Scanner' });
  await call('New-ServicePrincipal', { AppId: APP_A.appId, ObjectId: APP_A.sp, DisplayName: 'Scanner' });
  await call('New-ServicePrincipal', { AppId: APP_B.appId, ObjectId: APP_B.sp, DisplayName: 'Billing' });
  await call('Get-ServicePrincipal');
  await call('Get-ServicePrincipal', { Identity: APP_B.appId });
  await call('New-ManagementScope', { Name: 'scope-1', RecipientRestrictionFilter: primarySmtpAddressFilter(m1.PrimarySmtpAddress) });
  await call('New-ManagementScope', { Name: 'scope-1', RecipientRestrictionFilter: primarySmtpAddressFilter(m1.PrimarySmtpAddress) });
  await call('New-ManagementScope', { Name: 'scope-bad', RecipientRestrictionFilter: 'Department -eq "x"' });
  await call('New-ManagementRoleAssignment', { Name: 'grant-1', Role: 'Application SMTP.SendAsApp', App: APP_A.sp, CustomResourceScope: 'scope-1' });
  await call('New-ManagementRoleAssignment', { Name: 'grant-2', Role: 'Application SMTP.SendAsApp', App: APP_A.sp, CustomResourceScope: 'no-such-scope' });
  await call('New-ManagementRoleAssignment', { Name: 'grant-3', Role: 'Application SMTP.SendAsApp', App: 'cccccccc-cccc-4ccc-8ccc-cccccccccccc', CustomResourceScope: 'scope-1' });
  await call('Get-ManagementRoleAssignment', { Role: 'Application SMTP.SendAsApp' });
  await call('Get-ManagementScope');
  await call('Add-MailboxPermission', { Identity: m2.Guid, User: APP_B.sp, AccessRights: ['FullAccess'] });
  // A grant on a mailbox that does not exist.
  await call('Add-MailboxPermission', { Identity: 'ghost@contoso.com', User: APP_B.sp, AccessRights: ['FullAccess'] });
  await call('Get-MailboxPermission', { Identity: m2.PrimarySmtpAddress, User: APP_B.sp });
  // In use: neither goes while the grants stand.
  await call('Remove-ManagementScope', { Identity: 'scope-1' });
  await call('Remove-ServicePrincipal', { Identity: APP_B.sp });
  // Undo, in reverse order.
  await call('Remove-MailboxPermission', { Identity: m2.Guid, User: APP_B.sp, AccessRights: ['FullAccess'] });
  await call('Remove-MailboxPermission', { Identity: m2.Guid, User: APP_B.sp, AccessRights: ['FullAccess'] });
  await call('Remove-ManagementRoleAssignment', { Identity: 'grant-1' });
  await call('Remove-ManagementRoleAssignment', { Identity: 'grant-1' });
  await call('Remove-ManagementScope', { Identity: 'scope-1' });
  await call('Remove-ServicePrincipal', { Identity: APP_B.sp });
  await call('Remove-ServicePrincipal', { Identity: APP_A.appId });
  await call('Get-ServicePrincipal', { Identity: APP_A.appId });
  return out;
}

const simulator: Backend = { name: 'simulator', open: (file) => SimulatedSession.open(file) };
const sharedHost = new SharedStubHost();
afterAll(() => sharedHost.close());
const pwshStub: Backend = { name: 'pwsh + stub module', open: (file) => sharedHost.lease(file) };

async function runOn(backend: Backend, initial: TenantState): Promise<{ results: PsValue[]; state: TenantState }> {
  const file = stateFileFor(initial);
  const session = await backend.open(file);
  try {
    return { results: await scripted(session, initial), state: await readState(file) };
  } finally {
    await session.close();
  }
}

type Outcome = { cmdlet: string; objects?: Record<string, PsValue>[]; warnings?: string[]; errors?: { message: string; exceptionType: string }[] };

function checkBehaviours(results: PsValue[], state: TenantState, initial: TenantState): void {
  const r = results as Outcome[];
  expect(r[0]!.errors![0]!.message).toContain("That is the app registration's object id");
  expect(r[1]!.objects).toEqual([{ Identity: APP_A.sp, DisplayName: 'Scanner', AppId: APP_A.appId, ObjectId: APP_A.sp }]);
  expect(r[2]!.errors![0]).toMatchObject({ exceptionType: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException' });
  expect(r[4]!.objects).toHaveLength(2);
  expect(r[7]!.errors![0]!.exceptionType).toBe('Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException');
  expect(r[9]!.objects![0]).toMatchObject({ Name: 'grant-1', Role: 'Application SMTP.SendAsApp', RoleAssignee: APP_A.sp, CustomResourceScope: 'scope-1' });
  expect(r[10]!.errors![0]!.message).toContain("'no-such-scope' couldn't be found");
  expect(r[11]!.errors![0]!.message).toContain("'cccccccc-cccc-4ccc-8ccc-cccccccccccc' couldn't be found");
  expect(r[14]!.objects![0]).toMatchObject({ User: APP_B.sp, AccessRights: ['FullAccess'] });
  expect(r[15]!.errors![0]!.message).toContain("'ghost@contoso.com' couldn't be found");
  expect(r[17]!.errors![0]!.message).toContain('is used by the role assignment(s) grant-1');
  expect(r[18]!.errors![0]!.message).toContain('still has 1 role assignment(s) or mailbox permission(s)');
  expect(r[20]!.warnings![0]).toContain("because the ACE doesn't exist on the object");
  expect(r[22]!.errors![0]!.message).toContain("'grant-1' couldn't be found");
  expect(r.at(-1)!.errors![0]!.message).toContain(`'${APP_A.appId}' couldn't be found`);
  // Everything undone: the tenant holds no grant, scope or service principal (empty lists remain).
  expect(state.servicePrincipals).toEqual([]);
  expect(state.managementScopes).toEqual([]);
  expect(state.managementRoleAssignments).toEqual([]);
  expect(state.mailboxPermissions).toEqual([]);
  expect(state.mailboxes).toEqual(initial.mailboxes);
}

describe('app access cmdlets', () => {
  it('simulator: provisions, refuses the documented mistakes, and undoes to nothing', async () => {
    const initial = tenant();
    const { results, state } = await runOn(simulator, initial);
    checkBehaviours(results, state, initial);
  });

  it.skipIf(noPwsh)('pwsh + stub give the same results and leave the same state file as the simulator', async () => {
    const initial = tenant();
    const sim = await runOn(simulator, initial);
    const stub = await runOn(pwshStub, initial);
    checkBehaviours(stub.results, stub.state, initial);
    expect(stub.results).toEqual(sim.results);
    expect(stub.state).toEqual(sim.state);
  });
});
