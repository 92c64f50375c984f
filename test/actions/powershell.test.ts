import { describe, expect, it } from 'vitest';
import { powershellAction } from '../../src/actions/powershell.js';
import { InputError } from '../../src/errors.js';
import { powershellWith } from '../../src/playbook/schema.js';
import { at, context, mailbox, planInput, playbookView, tenant } from './builders.js';

const w = (value: Record<string, unknown>) => powershellWith.parse(value);

describe('powershell escape hatch', () => {
  it('runs a Get-* cmdlet at observe time and puts its output in the plan', async () => {
    const withValue = w({ cmdlet: 'Get-CASMailbox', parameters: { Identity: 'alice@contoso.com' } });
    const observed = await powershellAction.observe(withValue, context(tenant([mailbox('alice', false)])), 'read');
    const plan = powershellAction.plan(planInput('read', withValue, observed));
    expect(plan.changes).toEqual([]);
    expect(plan.data).toMatchObject({ cmdlet: 'Get-CASMailbox', objects: [expect.objectContaining({ PrimarySmtpAddress: 'alice@contoso.com' })] });
  });

  it('plans a write unrelated to SMTP AUTH verbatim, with no undo, only with allowWrite: true; observe does not run it', async () => {
    const state = tenant([mailbox('alice', null)]);
    const ctx = context(state);
    const parameters = { ReportTitle: 't', ReportType: 'MessageTrace', SenderAddress: ['alice@contoso.com'], StartDate: '2026-11-20T00:00:00Z', EndDate: '2026-11-21T00:00:00Z' };
    const withValue = w({ cmdlet: 'Start-HistoricalSearch', parameters, allowWrite: true });
    const plan = powershellAction.plan(planInput('write', withValue, await powershellAction.observe(withValue, ctx, 'write')));
    expect(ctx.calls).toEqual([]);
    expect(plan.changes).toEqual([
      expect.objectContaining({ target: 'Start-HistoricalSearch', property: '(run)', before: null, after: '(run)', undo: null, call: { cmdlet: 'Start-HistoricalSearch', parameters } }),
    ]);
    expect(plan.risks).toEqual([]);
    expect(state.historicalSearches).toEqual([]);

    const refused = w({ cmdlet: 'Set-CASMailbox', parameters: {} });
    expect(() => powershellAction.plan(planInput('write', refused, { kind: 'powershell', objects: null, warnings: [] }))).toThrow(/needs allowWrite: true/);
  });

  it('refuses a cmdlet outside the allowlist at plan time, located at the cmdlet', async () => {
    const withValue = w({ cmdlet: 'Remove-Mailbox', parameters: { Identity: 'x' }, allowWrite: true });
    const ctx = context(tenant([]));
    const observed = await powershellAction.observe(withValue, ctx, 'bad');
    expect(ctx.calls).toEqual([]);
    const playbook = playbookView([{ id: 'bad', uses: 'powershell', with: withValue }], {
      locate: (path) => (path.join('.') === 'steps.0.with.cmdlet' ? at('pb.yaml', 9, 15) : undefined),
    });
    let error: InputError | undefined;
    try {
      powershellAction.plan(planInput('bad', withValue, observed, playbook));
    } catch (e) {
      error = e as InputError;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error!.location).toEqual(at('pb.yaml', 9, 15));
    expect(error!.message).toBe("step 'bad': Remove-Mailbox is not a cmdlet exo-playbook may run");
  });
});
