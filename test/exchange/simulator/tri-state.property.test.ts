/**
 * Property: any sequence of Set-CASMailbox / Set-TransportConfig calls, addressed by any identity form,
 * leaves the tenant (in memory and in the state file) exactly as a trivial model of the tri-state
 * switch says, and a Set warns exactly when it changes nothing.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { writeStateFile } from '../../../src/exchange/simulator/state-file.js';
import type { TriState } from '../../../src/exchange/simulator/state.js';
import { smallTenant } from './tenant-fixture.js';

type Step = { kind: 'mailbox'; index: number; form: number; value: TriState } | { kind: 'org'; value: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('mailbox' as const), index: fc.integer({ min: 0, max: 3 }), form: fc.integer({ min: 0, max: 4 }), value: fc.constantFrom<TriState>(true, false, null) }),
  fc.record({ kind: fc.constant('org' as const), value: fc.boolean() }),
);

describe('the tri-state switch under random Set sequences', () => {
  it('matches the model in memory, in the file, and in its warnings', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sim-prop-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
          const file = path.join(dir, 'tenant.json');
          await writeStateFile(file, smallTenant());
          const model = smallTenant();
          const session = await SimulatedSession.open(file);
          try {
            for (const s of steps) {
              if (s.kind === 'org') {
                const unchanged = model.transportConfig.SmtpClientAuthenticationDisabled === s.value;
                model.transportConfig.SmtpClientAuthenticationDisabled = s.value;
                const result = await session.invoke('Set-TransportConfig', { SmtpClientAuthenticationDisabled: s.value });
                expect(result.warnings.length).toBe(unchanged ? 1 : 0);
              } else {
                const m = model.mailboxes[s.index]!;
                const identity = [m.Name, m.PrimarySmtpAddress.toUpperCase(), m.UserPrincipalName, m.Guid, `smtp:${m.EmailAddresses.at(-1)!.slice(5)}`][s.form]!;
                const unchanged = m.SmtpClientAuthenticationDisabled === s.value;
                m.SmtpClientAuthenticationDisabled = s.value;
                const result = await session.invoke('Set-CASMailbox', { Identity: identity, SmtpClientAuthenticationDisabled: s.value });
                expect(result.errors).toEqual([]);
                expect(result.warnings.length).toBe(unchanged ? 1 : 0);
              }
            }
            expect(session.state).toEqual(model);
          } finally {
            await session.close();
          }
          expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(model);
        }),
        { numRuns: 60 },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
