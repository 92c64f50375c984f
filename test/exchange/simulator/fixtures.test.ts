/** The tenant fixtures other tests and the docs use stay loadable and mean what they say. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedSession } from '../../../src/exchange/simulator/session.js';
import { generateTenant } from '../../../src/exchange/simulator/generate.js';
import { readStateFile } from '../../../src/exchange/simulator/state-file.js';
import { smallTenant } from './tenant-fixture.js';

const tenants = path.resolve(import.meta.dirname, '../../fixtures/tenants');

describe('test/fixtures/tenants', () => {
  it('small.json is the hand-made tenant of the unit tests', async () => {
    expect(await readStateFile(path.join(tenants, 'small.json'))).toEqual(smallTenant());
  });

  it('generated-200.json is what generateTenant makes for its seed (the generator is deterministic across machines)', async () => {
    // Regenerate with: generateTenant({ mailboxes: 200, seed: 'fixture', clock: '2026-11-20T09:00:00.000Z' }).
    const expected = generateTenant({ mailboxes: 200, seed: 'fixture', clock: '2026-11-20T09:00:00.000Z' });
    expect(await readStateFile(path.join(tenants, 'generated-200.json'))).toEqual(expected);
  });

  it('loads through SimulatedSession and reads back every mailbox', async () => {
    const session = await SimulatedSession.open(path.join(tenants, 'generated-200.json'));
    const all = await session.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] });
    await session.close();
    expect(all.objects).toHaveLength(200);
    expect(all.objects.filter((o) => o.SmtpClientAuthenticationDisabled === false).length).toBeGreaterThan(0);
  });
});
