import { describe, expect, it } from 'vitest';
import { readMailboxDirectory, readOrganizationDisabled } from '../../src/actions/smtp-auth/mailbox-directory.js';
import type { Change } from '../../src/actions/types.js';
import { createRunContext } from '../../src/engine/context.js';
import type { ChangeResult } from '../../src/engine/types.js';
import { readsAfterWrites } from '../../src/engine/verify-after-write.js';
import type { ExchangeSession } from '../../src/exchange/session.js';
import { SimulatedSession } from '../../src/exchange/simulator/session.js';
import { mailbox, tenant } from '../support/tenant.js';

function setup() {
  const session = SimulatedSession.fromState(tenant([mailbox('a', false), mailbox('b', null), mailbox('c', true)]));
  return { session, observed: createRunContext({ session }) };
}

const change = (id: string, cmdlet: string, parameters: Change['call']['parameters']): Change => ({
  id,
  stepId: 's',
  target: String(parameters.Identity ?? 'Organization'),
  property: 'SmtpClientAuthenticationDisabled',
  before: null,
  after: null,
  reason: '',
  call: { cmdlet, parameters },
  undo: null,
});
const result = (changeId: string, status: ChangeResult['status']): ChangeResult => ({
  changeId, stepId: 's', target: '', property: '', status, before: null, after: null, attempts: 1, durationMs: 0, warnings: [],
});

describe('readsAfterWrites', () => {
  it('carries the bulk read over with each written mailbox read again, and drops the organization switch it wrote', async () => {
    const { session, observed } = setup();
    await readMailboxDirectory(observed);
    await readOrganizationDisabled(observed);
    const changes = [change('1', 'Set-CASMailbox', { Identity: 'a@contoso.com', SmtpClientAuthenticationDisabled: null }), change('2', 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })];
    await session.invoke('Set-CASMailbox', { Identity: 'a@contoso.com', SmtpClientAuthenticationDisabled: null });
    const seed = await readsAfterWrites(observed, { session }, changes, [result('1', 'applied'), result('2', 'failed')]);
    expect([...seed!.keys()]).toEqual(['mailboxes']);
    const fresh = createRunContext({ session, seed: seed! });
    const directory = await readMailboxDirectory(fresh);
    expect(directory.valueOf('a@contoso.com')).toBeNull(); // re-read: the write landed
    expect(directory.valueOf('c@contoso.com')).toBe(true); // carried over
  });

  it('with more sessions (apply --concurrency 3) the written mailboxes are re-read over all of them, one call at a time on each', async () => {
    const { session, observed } = setup();
    await readMailboxDirectory(observed);
    const written = ['a', 'b', 'c'];
    for (const m of written) await session.invoke('Set-CASMailbox', { Identity: `${m}@contoso.com`, SmtpClientAuthenticationDisabled: false });
    // Three sessions on the one tenant, each counting its reads and its calls in flight.
    const readers = [0, 1, 2].map(() => {
      const counted = { reads: 0, inFlight: 0, maxInFlight: 0 };
      const reader: ExchangeSession = {
        kind: session.kind,
        invoke: async (cmdlet, parameters, options) => {
          counted.reads += 1;
          counted.maxInFlight = Math.max(counted.maxInFlight, ++counted.inFlight);
          try {
            await new Promise((r) => setTimeout(r, 5));
            return await session.invoke(cmdlet, parameters, options);
          } finally {
            counted.inFlight -= 1;
          }
        },
        stream: (cmdlet, parameters, options) => session.stream(cmdlet, parameters, options),
        close: async () => {},
      };
      return { reader, counted };
    });
    const changes = written.map((m, i) => change(String(i), 'Set-CASMailbox', { Identity: `${m}@contoso.com`, SmtpClientAuthenticationDisabled: false }));
    const [first, ...others] = readers;
    const seed = await readsAfterWrites(observed, { session: first!.reader }, changes, changes.map((c) => result(c.id, 'applied')), others.map((o) => o.reader));
    expect([...seed!.keys()]).toEqual(['mailboxes']);
    expect(readers.map((r) => r.counted.reads)).toEqual([1, 1, 1]);
    expect(readers.map((r) => r.counted.maxInFlight)).toEqual([1, 1, 1]);
    const directory = await readMailboxDirectory(createRunContext({ session, seed: seed! }));
    for (const m of written) expect(directory.valueOf(`${m}@contoso.com`)).toBe(false);
  });

  it('skipped changes were never sent: nothing to read again for them', async () => {
    const { observed, session } = setup();
    await readOrganizationDisabled(observed);
    const seed = await readsAfterWrites(observed, { session }, [change('2', 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })], [result('2', 'skipped')]);
    expect([...seed!.keys()]).toEqual(['transport-config']);
  });

  it('reads everything again after a write it does not understand', async () => {
    const { observed, session } = setup();
    await readMailboxDirectory(observed);
    const seed = await readsAfterWrites(observed, { session }, [change('1', 'Set-AuthenticationPolicy', { Identity: 'x', AllowBasicAuthSmtp: false })], [result('1', 'applied')]);
    expect(seed).toBeUndefined();
  });

  it('reads the whole tenant again when a written mailbox cannot be read back cleanly', async () => {
    const { observed, session } = setup();
    await readMailboxDirectory(observed);
    const seed = await readsAfterWrites(observed, { session }, [change('1', 'Set-CASMailbox', { Identity: 'ghost@contoso.com', SmtpClientAuthenticationDisabled: null })], [result('1', 'failed')]);
    expect(seed!.has('mailboxes')).toBe(false);
  });

  it('with a spare session, the organization switch is read again there while the whole tenant is read again on the run\'s own, and both are carried', async () => {
    const { observed, session } = setup();
    await readMailboxDirectory(observed);
    await readOrganizationDisabled(observed);
    // One write that cannot be read back singly (no such mailbox): the bulk read is done again.
    await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: false });
    const calls: string[] = [];
    let inFlight = 0;
    let overlapped = false;
    const recording = (name: string): ExchangeSession => ({
      kind: session.kind,
      invoke: async (cmdlet, parameters, options) => {
        calls.push(`${name} ${cmdlet}${parameters?.Identity ? ' -Identity' : ''}`);
        overlapped ||= ++inFlight > 1;
        try {
          await new Promise((r) => setTimeout(r, 20));
          return await session.invoke(cmdlet, parameters, options);
        } finally {
          inFlight -= 1;
        }
      },
      stream: async function* (cmdlet, parameters, options) {
        calls.push(`${name} ${cmdlet} (bulk)`);
        overlapped ||= ++inFlight > 1;
        try {
          await new Promise((r) => setTimeout(r, 20));
          yield* session.stream(cmdlet, parameters, options);
        } finally {
          inFlight -= 1;
        }
      },
      close: async () => {},
    });
    const changes = [change('1', 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: false }), change('2', 'Set-CASMailbox', { Identity: 'ghost@contoso.com', SmtpClientAuthenticationDisabled: null })];
    const seed = await readsAfterWrites(observed, { session: recording('own') }, changes, [result('1', 'applied'), result('2', 'failed')], [recording('spare')]);
    expect(calls).toEqual(expect.arrayContaining(['spare Get-TransportConfig', 'own Get-EXOCASMailbox (bulk)']));
    expect(overlapped).toBe(true);
    expect([...seed!.keys()].sort()).toEqual(['mailboxes', 'transport-config']);
    // What verify then sees is the tenant after the write, read by those two calls (no further call).
    const fresh = createRunContext({ session: recording('verify'), seed: seed! });
    expect(await readOrganizationDisabled(fresh)).toBe(false);
    expect((await readMailboxDirectory(fresh)).valueOf('c@contoso.com')).toBe(true);
    expect(calls.filter((c) => c.startsWith('verify'))).toEqual([]);
  });

  it('without a spare session the organization switch is left for verify to read on the run\'s own session', async () => {
    const { observed, session } = setup();
    await readOrganizationDisabled(observed);
    const seed = await readsAfterWrites(observed, { session }, [change('1', 'Set-TransportConfig', { SmtpClientAuthenticationDisabled: true })], [result('1', 'applied')]);
    expect(seed!.has('transport-config')).toBe(false);
  });
});
