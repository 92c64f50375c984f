import { describe, expect, it } from 'vitest';
import { generateTenant, BLOCK_BASIC_SMTP_POLICY } from '../../../src/exchange/simulator/generate.js';
import { summarizeTenant } from '../../../src/exchange/simulator/summary.js';
import { InputError } from '../../../src/errors.js';

const CLOCK = '2026-11-20T09:00:00.000Z';

describe('generateTenant', () => {
  it('is deterministic by seed, and different seeds make different tenants', () => {
    const a = generateTenant({ mailboxes: 500, seed: 'demo', clock: CLOCK });
    const b = generateTenant({ mailboxes: 500, seed: 'demo', clock: CLOCK });
    const c = generateTenant({ mailboxes: 500, seed: 'other', clock: CLOCK });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.mailboxes.map((m) => m.Guid)).not.toEqual(c.mailboxes.map((m) => m.Guid));
  });

  it('makes the counts asked for', () => {
    const state = generateTenant({
      mailboxes: 400,
      seed: 7,
      clock: CLOCK,
      orgSmtpAuthDisabled: true,
      explicitEnabled: 12,
      explicitDisabled: 5,
      activeSenders: 20,
      organization: 'fabrikam.onmicrosoft.com',
    });
    const summary = summarizeTenant(state);
    expect(summary).toMatchObject({
      organization: 'fabrikam.onmicrosoft.com',
      orgSmtpAuthDisabled: true,
      mailboxes: 400,
      explicitEnabled: 12,
      explicitDisabled: 5,
      followingOrganization: 383,
      senders: 20,
    });
    expect(state.mailboxes.every((m) => m.PrimarySmtpAddress.endsWith('@fabrikam.com'))).toBe(true);
    expect(state.mailboxes.every((m) => m.EmailAddresses.some((a) => a.endsWith('@fabrikam.onmicrosoft.com')))).toBe(true);
  });

  it('looks like a real tenant: people, shared mailboxes, rooms, devices, policies, and the risky senders', () => {
    const state = generateTenant({ mailboxes: 1000, seed: 1, clock: CLOCK });
    const summary = summarizeTenant(state);
    expect(summary.byType.UserMailbox).toBeGreaterThan(850);
    expect(summary.byType.SharedMailbox).toBeGreaterThan(20);
    expect(summary.byType.RoomMailbox).toBeGreaterThan(5);
    const aliases = state.mailboxes.map((m) => m.Alias);
    expect(aliases).toContain('scanner');
    expect(aliases).toContain('noreply-erp');
    expect(state.mailboxes.find((m) => m.Alias === 'scanner')!.SmtpClientAuthenticationDisabled).toBe(false);
    // Display names are names, not ids.
    expect(state.mailboxes.filter((m) => /^[A-Z][a-z]+ [A-Z][a-z]+$/.test(m.DisplayName)).length).toBeGreaterThan(800);
    // Both kinds of override exist, and people hold the blocking policy.
    expect(summary.explicitEnabled).toBeGreaterThan(0);
    expect(summary.explicitDisabled).toBeGreaterThan(0);
    expect(state.mailboxes.some((m) => m.AuthenticationPolicy === BLOCK_BASIC_SMTP_POLICY)).toBe(true);
    // Senders: Basic and OAuth, explicit $false ones and ones that only follow the organization.
    expect(summary.basicSenders).toBeGreaterThan(0);
    expect(summary.oauthSenders).toBeGreaterThan(0);
    expect(summary.sendersWithExplicitFalse).toBeGreaterThan(0);
    expect(summary.sendersFollowingOrganization).toBeGreaterThan(0);
    for (const a of state.smtpAuthActivity) {
      const age = Date.parse(CLOCK) - Date.parse(a.lastSeen);
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThanOrEqual(30 * 24 * 60 * 60 * 1000);
      expect(a.messages).toBeGreaterThan(0);
    }
  });

  it('keeps every identity unique at scale (aliases, addresses, guids)', () => {
    const state = generateTenant({ mailboxes: 20_000, seed: 'scale', clock: CLOCK });
    const keys = state.mailboxes.flatMap((m) => [m.Alias, m.Guid, ...m.EmailAddresses.map((a) => a.replace(/^smtp:/i, '').toLowerCase())]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('refuses sizes outside 10 to 100,000', () => {
    expect(() => generateTenant({ mailboxes: 9, seed: 1 })).toThrow(InputError);
    expect(() => generateTenant({ mailboxes: 100_001, seed: 1 })).toThrow('10 to 100000 mailboxes');
  });
});
