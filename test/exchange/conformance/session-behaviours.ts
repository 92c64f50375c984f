/**
 * The session behaviours every ExchangeSession backend must show (EXCHANGE-FACTS.md), written once as
 * a function of a backend; conformance.test.ts runs it against the simulator and against real pwsh
 * with the stub module.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors.js';
import { CmdletFailure, SessionLost, type CmdletErrorRecord, type ExchangeSession, type PsObject } from '../../../src/exchange/session.js';
import { readStateFile } from '../../../src/exchange/simulator/state-file.js';
import type { TenantState } from '../../../src/exchange/simulator/state.js';
import { parseServiceError } from '../../../src/exchange/service-error.js';
import { fixtureTenant, tempDir, writeState } from '../pwsh/pwsh-for-tests.js';
import { utcDateTimeValue } from '../../../src/exchange/utc-date-time.js';

export interface Backend {
  name: string;
  open(stateFile: string): Promise<ExchangeSession>;
}

const REST_EXCEPTION = 'Microsoft.Exchange.Management.RestApiClient.RestClientException';

export const THROTTLING = 'You have reached the maximum number of concurrent requests per tenant. Please wait and try again';

/** FullyQualifiedErrorId without the ",<cmdlet>" PowerShell appends for a record a function writes. */
export function normalizeRecord(cmdlet: string, record: CmdletErrorRecord): CmdletErrorRecord {
  return { ...record, fullyQualifiedErrorId: record.fullyQualifiedErrorId.replace(new RegExp(`,${cmdlet}$`, 'i'), '') };
}

export async function failureOf(promise: Promise<unknown>): Promise<CmdletFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CmdletFailure);
  return error as CmdletFailure;
}

/** The tenant as the next reader sees it: the file, plus the simulator's change log when one is open. */
export async function readState(file: string): Promise<TenantState> {
  return readStateFile(file);
}

export function defineSessionBehaviours(backend: Backend): void {
  describe(`session behaviours: ${backend.name}`, () => {
    let stateFile: string;
    let initial: TenantState;
    let session: ExchangeSession | undefined;

    async function open(changes?: (state: TenantState) => void): Promise<ExchangeSession> {
      initial = fixtureTenant(changes);
      stateFile = writeState(tempDir('conf'), initial);
      session = await backend.open(stateFile);
      return session;
    }

    beforeEach(() => {
      session = undefined;
    });
    afterEach(async () => {
      await session?.close();
    });

    it('reads and sets the organization switch, warning when nothing changes', async () => {
      const s = await open((state) => (state.transportConfig.SmtpClientAuthenticationDisabled = false));
      const before = await s.invoke('Get-TransportConfig');
      expect(before.objects).toEqual([{ Identity: 'Transport Settings', Name: 'Transport Settings', SmtpClientAuthenticationDisabled: false }]);
      const set = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true });
      expect(set).toEqual({ objects: [], warnings: [], errors: [] });
      expect((await s.invoke('Get-TransportConfig')).objects[0]?.SmtpClientAuthenticationDisabled).toBe(true);
      const warned: string[] = [];
      const again = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true }, { onWarning: (w) => warned.push(w) });
      const text = "The command completed successfully but no settings of 'Transport Settings' have been modified.";
      expect(again.warnings).toEqual([text]);
      expect(warned).toEqual([text]);
      expect((await readState(stateFile)).transportConfig.SmtpClientAuthenticationDisabled).toBe(true);
    });

    it('signs in to the tenant named by -Organization or -DelegatedOrganization (any case), and refuses another tenant alike', async () => {
      const s = await open();
      const name = initial.organization.Name;
      for (const key of ['Organization', 'DelegatedOrganization']) {
        expect(await s.invoke('Connect-ExchangeOnline', { [key]: name.toUpperCase(), ShowBanner: false })).toEqual({ objects: [], warnings: [], errors: [] });
        const failure = await failureOf(s.invoke('Connect-ExchangeOnline', { [key]: 'fabrikam.onmicrosoft.com', ShowBanner: false }));
        expect(failure.record.message).toBe(
          `Unable to connect to organization 'fabrikam.onmicrosoft.com': the signed-in tenant is '${name}'. Check tenant.organization in the playbook (or the simulated tenant's organization.Name).`,
        );
      }
    });

    it('streams every mailbox in one bulk read, with the switch only when asked for by name', async () => {
      const s = await open();
      const seen: PsObject[] = [];
      for await (const o of s.stream('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] })) seen.push(o);
      expect(seen.map((o) => o.Name)).toEqual(initial.mailboxes.map((m) => m.Name));
      expect(seen.map((o) => o.SmtpClientAuthenticationDisabled)).toEqual(initial.mailboxes.map((m) => m.SmtpClientAuthenticationDisabled));
      const plain = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited' });
      expect(plain.objects).toHaveLength(initial.mailboxes.length);
      expect(plain.objects[0]).not.toHaveProperty('SmtpClientAuthenticationDisabled');
    });

    it('round-trips the tri-state mailbox switch: $true, $false and $null', async () => {
      const s = await open();
      const name = initial.mailboxes[3]!.Name;
      for (const value of [true, false, null, true, null] as const) {
        const set = await s.invoke('Set-CASMailbox', { Identity: name, SmtpClientAuthenticationDisabled: value });
        expect(set.errors).toEqual([]);
        const read = await s.invoke('Get-CASMailbox', { Identity: name });
        expect(read.objects[0]?.SmtpClientAuthenticationDisabled).toBe(value);
        expect((await readState(stateFile)).mailboxes[3]!.SmtpClientAuthenticationDisabled).toBe(value);
      }
    });

    it('reports a missing identity as the non-terminating not-found error, terminal with ErrorAction Stop', async () => {
      const s = await open();
      const result = await s.invoke('Get-CASMailbox', { Identity: 'no.such@contoso.com' });
      expect(result.objects).toEqual([]);
      expect(result.errors).toHaveLength(1);
      const expected = {
        exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
        fullyQualifiedErrorId: 'Ex6F9304,Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox',
        message: `The operation couldn't be performed because object 'no.such@contoso.com' couldn't be found on '${initial.organization.Server}'.`,
        target: 'no.such@contoso.com',
        category: 'NotSpecified',
        code: 'Ex6F9304',
      };
      expect(normalizeRecord('Get-CASMailbox', result.errors[0]!)).toEqual(expected);
      const failure = await failureOf(s.invoke('Get-CASMailbox', { Identity: 'no.such@contoso.com', ErrorAction: 'Stop' }));
      expect(normalizeRecord('Get-CASMailbox', failure.record)).toEqual(expected);
      // stream() turns the non-terminating error into a failure at the end.
      await expect(async () => {
        for await (const o of s.stream('Get-CASMailbox', { Identity: 'no.such@contoso.com' })) void o;
      }).rejects.toBeInstanceOf(CmdletFailure);
    });

    it('warns that no settings were modified when a mailbox already has the value', async () => {
      const s = await open((state) => (state.mailboxes[2]!.SmtpClientAuthenticationDisabled = false));
      const result = await s.invoke('Set-CASMailbox', { Identity: initial.mailboxes[2]!.Name, SmtpClientAuthenticationDisabled: false });
      expect(result.warnings).toEqual([`The command completed successfully but no settings of '${initial.mailboxes[2]!.Name}' have been modified.`]);
    });

    it('resolves an identity by alias, UPN, any proxy address and Guid, case-insensitively', async () => {
      const s = await open();
      const m = initial.mailboxes[5]!;
      const secondary = m.EmailAddresses.find((a) => a.startsWith('smtp:'))!.slice(5);
      for (const identity of [m.Alias.toUpperCase(), m.UserPrincipalName, secondary.toUpperCase(), `smtp:${secondary}`, m.Guid.toUpperCase()]) {
        const result = await s.invoke('Get-CASMailbox', { Identity: identity });
        expect(result.errors, identity).toEqual([]);
        expect(result.objects.map((o) => o.Name), identity).toEqual([m.Name]);
      }
    });

    it('runs a historical search from submission to Done, and stops only a NotStarted one', async () => {
      const s = await open((state) => (state.historicalSearchPolls = 3));
      const start = new Date(Date.parse(initial.clock!) - 7 * 86_400_000).toISOString();
      const submitted = await s.invoke('Start-HistoricalSearch', {
        ReportTitle: 'SMTPBasicAuth_Audit', ReportType: 'SmtpCSReport', StartDate: start, EndDate: initial.clock!, NotifyAddress: ['admin@contoso.com'],
      });
      const job = submitted.objects[0]!;
      expect(job).toMatchObject({ Status: 'NotStarted', ReportTitle: 'SMTPBasicAuth_Audit', ReportType: 'SmtpCSReport', SubmitDate: initial.clock, StartDate: start, NotifyAddress: ['admin@contoso.com'], JobProgress: 0 });
      const seen: PsObject[] = [];
      for (let i = 0; i < 4; i++) seen.push((await s.invoke('Get-HistoricalSearch', { JobId: String(job.JobId) })).objects[0]!);
      expect(seen.map((j) => j.Status)).toEqual(['InProgress', 'InProgress', 'Done', 'Done']);
      expect(seen.map((j) => j.JobProgress)).toEqual([33, 67, 100, 100]);
      const inWindow = initial.smtpAuthActivity.filter((a) => a.lastSeen >= start && a.lastSeen <= initial.clock!).length;
      expect(seen[2]!.Rows).toBe(inWindow);
      // Where the report is: only once Done (EXCHANGE-FACTS "Historical search").
      expect(seen.map((j) => j.FileUrl)).toEqual([null, null, expect.stringContaining(`RequestID=${String(job.JobId)}`), expect.stringContaining(String(job.JobId))]);
      expect(seen[2]!.ReportStatusDescription).toBe('Complete');
      const notStoppable = await failureOf(s.invoke('Stop-HistoricalSearch', { JobId: String(job.JobId) }));
      expect(notStoppable.record.exceptionType).toBe('Microsoft.Exchange.Configuration.Tasks.TaskArgumentException');
      expect(notStoppable.record.message).toContain('NotStarted');

      const second = (await s.invoke('Start-HistoricalSearch', { ReportTitle: 'again', ReportType: 'MessageTrace', StartDate: start, EndDate: initial.clock! })).objects[0]!;
      await s.invoke('Stop-HistoricalSearch', { JobId: String(second.JobId) });
      const stored = (await readState(stateFile)).historicalSearches;
      expect(stored.map((j) => j.Status)).toEqual(['Done', 'Cancelled']);
      expect((await s.invoke('Get-HistoricalSearch')).objects.map((j) => j.Status)).toEqual(['Done', 'Cancelled']);
    });

    it('binds {$dateTimeUtc} dates as the exact instants, and refuses what the tenant service is set to refuse', async () => {
      const s = await open((state) => (state.historicalSearchService = { rejectReportTypes: ['SmtpCSReport'], addressRequiredFor: ['MessageTrace'] }));
      const start = new Date(Date.parse(initial.clock!) - 2 * 86_400_000).toISOString();
      const dates = { StartDate: utcDateTimeValue(start), EndDate: utcDateTimeValue(initial.clock!) };
      const rejected = await failureOf(s.invoke('Start-HistoricalSearch', { ReportTitle: 'a', ReportType: 'SmtpCSReport', ...dates }));
      expect(rejected.record.exceptionType).toBe('System.Management.Automation.ParameterBindingArgumentTransformationException');
      expect(rejected.record.message).toContain('Cannot convert value "SmtpCSReport" to type "Microsoft.Exchange.Management.ReportingTask.HistoricalSearchReportType"');
      const addressless = await failureOf(s.invoke('Start-HistoricalSearch', { ReportTitle: 'b', ReportType: 'MessageTrace', ...dates }));
      expect(addressless.record.message).toBe('You need to use at least one of the following parameters: MessageID, RecipientAddress, or SenderAddress (ReportType MessageTrace).');
      const job = (await s.invoke('Start-HistoricalSearch', { ReportTitle: 'c', ReportType: 'MessageTrace', SenderAddress: ['scanner@contoso.com'], ...dates })).objects[0]!;
      expect(job).toMatchObject({ StartDate: start, EndDate: initial.clock, FileUrl: null });
    });

    it('refuses historical searches outside the service limits', async () => {
      const now = Date.parse(fixtureTenant().clock!);
      const iso = (days: number) => new Date(now - days * 86_400_000).toISOString();
      const s = await open((state) => {
        // 250 submissions in the last 24 hours, one of them cancelled: the quota is used up.
        state.historicalSearches = Array.from({ length: 250 }, (_, i) => ({
          JobId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, ReportTitle: `t${i}`, ReportType: 'MessageTrace',
          Status: i === 0 ? 'Cancelled' : 'Done', SubmitDate: new Date(now - (i + 1) * 60_000).toISOString(), StartDate: iso(2), EndDate: iso(1),
          NotifyAddress: [], JobProgress: 100, Rows: 0, ReportStatusDescription: 'Complete', PollsRemaining: 0,
        }));
      });
      const base = { ReportTitle: 'x', ReportType: 'MessageTrace' };
      const tooOld = await failureOf(s.invoke('Start-HistoricalSearch', { ...base, StartDate: iso(91), EndDate: iso(1) }));
      expect(tooOld.record.message).toContain('90 days');
      const backwards = await failureOf(s.invoke('Start-HistoricalSearch', { ...base, StartDate: iso(2), EndDate: iso(3) }));
      expect(backwards.record.message).toContain('earlier than the StartDate');
      const quota = await failureOf(s.invoke('Start-HistoricalSearch', { ...base, StartDate: iso(2), EndDate: iso(1) }));
      expect(quota.record.message).toContain('250 historical searches');
      expect((await readState(stateFile)).historicalSearches).toHaveLength(250);
    });

    it('reads authentication policies, the organization default and a user\'s policy', async () => {
      const s = await open((state) => {
        state.authenticationPolicies = [{ Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false }, { Name: 'Allow SMTP', AllowBasicAuthSmtp: true }];
        state.organizationConfig.DefaultAuthenticationPolicy = 'Block Basic SMTP';
        state.mailboxes[1]!.AuthenticationPolicy = 'Allow SMTP';
      });
      expect((await s.invoke('Get-AuthenticationPolicy')).objects).toEqual([
        { Identity: 'Block Basic SMTP', Name: 'Block Basic SMTP', AllowBasicAuthSmtp: false },
        { Identity: 'Allow SMTP', Name: 'Allow SMTP', AllowBasicAuthSmtp: true },
      ]);
      expect((await s.invoke('Get-AuthenticationPolicy', { Identity: 'Allow SMTP' })).objects).toHaveLength(1);
      expect((await s.invoke('Get-AuthenticationPolicy', { Identity: 'nope' })).errors[0]?.exceptionType).toBe(
        'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      );
      // Name is the organization's initial domain, whichever name signed in: the tenant lock's key (tenant-ref.ts).
      expect((await s.invoke('Get-OrganizationConfig')).objects[0]).toMatchObject({ Name: initial.organization.Name, DefaultAuthenticationPolicy: 'Block Basic SMTP' });
      const user = (await s.invoke('Get-User', { Identity: initial.mailboxes[1]!.UserPrincipalName })).objects[0]!;
      expect(user).toMatchObject({ Name: initial.mailboxes[1]!.Name, AuthenticationPolicy: 'Allow SMTP' });
      const users = await s.invoke('Get-User', { ResultSize: 'Unlimited' });
      expect(users.objects).toHaveLength(initial.mailboxes.length);
      // One call finds every user with a policy of its own (the allowlist step's bulk read).
      const withPolicy = await s.invoke('Get-User', { Filter: 'AuthenticationPolicy -ne $null', ResultSize: 'Unlimited' });
      const expected = initial.mailboxes.filter((m) => m.AuthenticationPolicy !== null);
      expect(expected.length).toBeGreaterThan(0);
      expect(withPolicy.objects.map((u) => [u.UserPrincipalName, u.AuthenticationPolicy])).toEqual(expected.map((m) => [m.UserPrincipalName, m.AuthenticationPolicy]));
      expect((await s.invoke('Get-User', { Filter: 'AuthenticationPolicy -eq $null', ResultSize: 'Unlimited' })).objects).toHaveLength(initial.mailboxes.length - expected.length);
      // A filter the fakes do not model is refused, never answered with a guess.
      const unsupported = await failureOf(s.invoke('Get-User', { Filter: "Department -eq 'IT'" }));
      expect(unsupported.record.message).toMatch(/supports only the filters/);
    });

    it('throttles every Nth call with a non-terminating error in the service text, and the retry succeeds', async () => {
      const s = await open((state) => (state.faults = { throttleEveryN: 2 }));
      await s.invoke('Get-TransportConfig');
      const throttled = await s.invoke('Get-TransportConfig');
      expect(throttled.objects).toEqual([]);
      expect(throttled.errors.map((e) => e.message)).toEqual([THROTTLING]);
      expect((await s.invoke('Get-TransportConfig')).objects).toHaveLength(1);
      // Get-EXO* says it the REST way: HTTP 429 with the text inside ErrorMessage.
      const rest = await s.invoke('Get-EXOCASMailbox', { ResultSize: 1 });
      expect(rest.objects).toEqual([]);
      expect(parseServiceError(rest.errors[0]!)).toEqual({ code: 'TooManyRequests', exceptionType: REST_EXCEPTION, text: THROTTLING, httpStatus: 429 });
      expect(rest.errors[0]!.category).toBe('ProtocolError');
    });

    it('fails every Nth call with the transient "Server Busy" error, non-terminating', async () => {
      const s = await open((state) => (state.faults = { transientEveryN: 3 }));
      await s.invoke('Get-TransportConfig');
      await s.invoke('Get-OrganizationConfig');
      const busy = await s.invoke('Get-User', { ResultSize: 1 });
      expect(busy.objects).toEqual([]);
      expect(busy.errors[0]).toMatchObject({ message: 'Server Busy', exceptionType: REST_EXCEPTION });
      expect((await s.invoke('Get-User', { ResultSize: 1 })).objects).toHaveLength(1);
      await s.invoke('Get-TransportConfig');
      const terminal = await failureOf(s.invoke('Get-User', { ResultSize: 1, ErrorAction: 'Stop' }));
      expect(terminal.record.message).toBe('Server Busy');
    });

    it('reports each service error shape as a non-terminating error on a write, changing nothing', async () => {
      const s = await open((state) => {
        state.faults = {
          errors: [
            { cmdlet: 'Set-CASMailbox', shape: 'recipient-task', message: 'The mailbox is being moved. Try again later.', times: 1 },
            { cmdlet: 'Set-CASMailbox', shape: 'rest', httpStatus: 500, times: 1 },
            { cmdlet: 'Set-TransportConfig', shape: 'not-found' },
          ],
        };
      });
      const name = initial.mailboxes[3]!.Name;
      const first = await s.invoke('Set-CASMailbox', { Identity: name, SmtpClientAuthenticationDisabled: false });
      expect(first.errors.map((e) => normalizeRecord('Set-CASMailbox', e))).toEqual([
        {
          exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
          fullyQualifiedErrorId: 'RecipientTaskException,Microsoft.Exchange.Management.RecipientTasks.SetCASMailbox',
          message: 'The mailbox is being moved. Try again later.',
          target: name,
          category: 'NotSpecified',
        },
      ]);
      const second = await s.invoke('Set-CASMailbox', { Identity: name, SmtpClientAuthenticationDisabled: false });
      expect(parseServiceError(second.errors[0]!)).toMatchObject({ exceptionType: REST_EXCEPTION, httpStatus: 500, code: 'InternalServerError' });
      const org = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: !initial.transportConfig.SmtpClientAuthenticationDisabled });
      expect(parseServiceError(org.errors[0]!)).toMatchObject({ code: 'Ex6F9304', exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException' });
      expect((await readState(stateFile)).mailboxes[3]!.SmtpClientAuthenticationDisabled).toBe(initial.mailboxes[3]!.SmtpClientAuthenticationDisabled);
      expect((await readState(stateFile)).transportConfig).toEqual(initial.transportConfig);
      // times: 1 each: the third write goes through.
      expect((await s.invoke('Set-CASMailbox', { Identity: name, SmtpClientAuthenticationDisabled: false })).errors).toEqual([]);
      expect((await readState(stateFile)).mailboxes[3]!.SmtpClientAuthenticationDisabled).toBe(false);
    });

    it('reports a service error on a single read as a non-terminating error without objects', async () => {
      const s = await open((state) => (state.faults = { errors: [{ cmdlet: 'Get-User', shape: 'recipient-task', message: 'The user is locked.' }, { cmdlet: 'Get-EXOMailbox', shape: 'rest', httpStatus: 500 }] }));
      const user = await s.invoke('Get-User', { Identity: initial.mailboxes[1]!.UserPrincipalName });
      expect(user.objects).toEqual([]);
      expect(parseServiceError(user.errors[0]!)).toEqual({ code: null, exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException', text: 'The user is locked.', httpStatus: null });
      const mailbox = await s.invoke('Get-EXOMailbox', { Identity: initial.mailboxes[1]!.UserPrincipalName });
      expect(mailbox.objects).toEqual([]);
      expect(normalizeRecord('Get-EXOMailbox', mailbox.errors[0]!)).toMatchObject({
        exceptionType: REST_EXCEPTION,
        fullyQualifiedErrorId: 'An error occurred while processing this request.,Microsoft.Exchange.Management.RestApiClient.GetExoMailbox',
        category: 'ProtocolError',
      });
      expect(mailbox.errors[0]!.message).toMatch(/^Error while querying REST service\. HttpStatusCode=500 ErrorMessage=\{/);
    });

    it('cuts a bulk read off mid-stream: some objects, then the error record, then nothing', async () => {
      const s = await open((state) => (state.faults = { errors: [{ cmdlet: 'Get-EXOCASMailbox', shape: 'rest', httpStatus: 503, message: 'Server Busy', afterObjects: 3, times: 1 }] }));
      const cut = await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
      expect(cut.objects.map((o) => o.Name)).toEqual(initial.mailboxes.slice(0, 3).map((m) => m.Name));
      expect(parseServiceError(cut.errors[0]!)).toMatchObject({ httpStatus: 503, text: 'Server Busy' });
      // stream(): the same objects, then a CmdletFailure.
      const again = await open((state) => (state.faults = { errors: [{ cmdlet: 'Get-EXOCASMailbox', shape: 'rest', httpStatus: 500, afterObjects: 2 }] }));
      const seen: PsObject[] = [];
      const failure = await failureOf((async () => {
        for await (const o of again.stream('Get-EXOCASMailbox', { ResultSize: 'Unlimited' })) seen.push(o);
      })());
      expect(seen).toHaveLength(2);
      expect(parseServiceError(failure.record).httpStatus).toBe(500);
      // times: 1: the next read of the first session is whole.
      expect((await s.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited' })).objects).toHaveLength(initial.mailboxes.length);
      await s.close();
    });

    it('loses the call that crashes the session with a SessionError, and the next call works', async () => {
      const s = await open((state) => (state.faults = { crashOnCall: 2 }));
      await s.invoke('Get-TransportConfig');
      const error = await s.invoke('Get-OrganizationConfig').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SessionError);
      // SessionLost: a read so lost may be retried (the engine does), a write's outcome is unknown.
      expect(error).toBeInstanceOf(SessionLost);
      expect((error as Error).message).toContain('Get-OrganizationConfig');
      expect((await s.invoke('Get-TransportConfig')).objects).toHaveLength(1);
    });

    it('crashAfterCall: the write is saved, then its reply is lost with a SessionError; the next call sees it', async () => {
      const s = await open((state) => (state.faults = { crashAfterCall: 2 }));
      expect((await s.invoke('Get-TransportConfig')).objects[0]).toMatchObject({ SmtpClientAuthenticationDisabled: false });
      const error = await s.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SessionError);
      expect((await s.invoke('Get-TransportConfig')).objects[0]).toMatchObject({ SmtpClientAuthenticationDisabled: true });
    });

    it('rejects an unknown parameter with PowerShell\'s binder error', async () => {
      const s = await open();
      const failure = await failureOf(s.invoke('Get-User', { NoSuchParameter: 'x' }));
      expect(failure.record).toMatchObject({
        exceptionType: 'System.Management.Automation.ParameterBindingException',
        fullyQualifiedErrorId: 'NamedParameterNotFound,Get-User',
        message: "A parameter cannot be found that matches parameter name 'NoSuchParameter'.",
      });
    });
  });
}

/** Writes `state` to a new temp file (for the cross-check). */
export function stateFileFor(state: TenantState): string {
  const file = writeState(tempDir('cross'), state);
  writeFileSync(file, JSON.stringify(state, null, 2));
  return file;
}
