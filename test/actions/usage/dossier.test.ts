/** The per-sender dossier: merging sources, SMTP AUTH now and after, advice from the facts, CSV cells. */
import { describe, expect, it } from 'vitest';
import { adviceFor, buildDossiers, csvCell, dossierCsv } from '../../../src/actions/smtp-auth/usage/dossier.js';
import { foldByMailbox, mergeEvidence, type SourceReading } from '../../../src/actions/smtp-auth/usage/evidence.js';

const source = (kind: SourceReading['source'], senders: SourceReading['senders']): SourceReading => ({ source: kind, label: kind, window: '', blindSpots: [], complete: true, senders, warnings: [] });
const seen = (sender: string, extra: Partial<SourceReading['senders'][number]> = {}) => ({ sender, protocols: ['Basic' as const], messages: null, firstSeen: null, lastSeen: null, clientIps: [], tlsVersions: [], ...extra });

describe('merging sources per sender', () => {
  it('counts are not doubled across sources, dates widen, IPs and TLS versions unite, every source is named', () => {
    const merged = mergeEvidence([
      source('admin-center-report', [seen('Scanner@Contoso.com', { messages: 120, tlsVersions: ['TLS 1.2'] })]),
      source('request-report', [seen('scanner@contoso.com', { messages: 118, firstSeen: '2026-11-01T00:00:00.000Z', lastSeen: '2026-11-10T00:00:00.000Z', clientIps: ['10.0.0.5'], tlsVersions: ['TLS 1.0'] })]),
      source('entra-sign-ins', [seen('scanner@contoso.onmicrosoft.com', { firstSeen: '2026-10-30T00:00:00.000Z', lastSeen: '2026-11-12T00:00:00.000Z', clientIps: ['10.0.0.6'], failures: 2 })]),
      source('email-app-usage', [seen('scanner@contoso.com', { protocols: ['Unknown'] })]),
    ]);
    const folded = foldByMailbox(merged, (a) => (a.startsWith('scanner@') ? 'scanner@contoso.com' : null));
    expect(folded).toEqual([
      {
        sender: 'scanner@contoso.com',
        addresses: ['scanner@contoso.com', 'scanner@contoso.onmicrosoft.com'],
        protocols: ['Basic'],
        messages: 120,
        firstSeen: '2026-10-30T00:00:00.000Z',
        lastSeen: '2026-11-12T00:00:00.000Z',
        clientIps: ['10.0.0.5', '10.0.0.6'],
        tlsVersions: ['TLS 1.0', 'TLS 1.2'],
        failures: 2,
        sources: ['admin-center-report', 'request-report', 'entra-sign-ins', 'email-app-usage'],
      },
    ]);
  });
});

describe('the dossier', () => {
  const merged = foldByMailbox(
    mergeEvidence([source('admin-center-report', [seen('scanner@contoso.com', { messages: 5 }), seen('typo@contoso.com', { messages: 1 }), seen('app@contoso.com', { protocols: ['OAuth'], messages: 9 })])]),
    (a) => (a === 'typo@contoso.com' ? null : a),
  );
  const resolved = [
    { entry: 'scanner@contoso.com', mailbox: 'scanner@contoso.com', value: false as const },
    { entry: 'typo@contoso.com', mailbox: null, value: null },
    { entry: 'app@contoso.com', mailbox: 'app@contoso.com', value: null },
  ];

  it('SMTP AUTH now and after the plan, allowlisted or not, mailbox or "no mailbox"', () => {
    const dossiers = buildDossiers(merged, resolved, false, new Set(['scanner@contoso.com']), { organization: true, mailboxes: new Map() });
    const by = Object.fromEntries(dossiers.map((d) => [d.sender, d]));
    expect(by['scanner@contoso.com']).toMatchObject({ mailbox: 'scanner@contoso.com', smtpAuthNow: 'on', smtpAuthAfter: 'on', allowlisted: true, breaksEndOf2026: true });
    expect(by['app@contoso.com']).toMatchObject({ smtpAuthNow: 'on', smtpAuthAfter: 'off', allowlisted: false, breaksEndOf2026: false });
    expect(by['typo@contoso.com']).toMatchObject({ mailbox: null, smtpAuthAfter: 'off' });
    expect(by['typo@contoso.com']!.advice[0]).toContain('no mailbox has this address: a typo');
  });

  it('advice follows the migration facts', () => {
    expect(adviceFor({ mailbox: 'a@contoso.com', protocols: ['OAuth'], tlsVersions: ['TLS 1.2'], failures: 0 })).toEqual(['already OAuth: keeps working while SMTP AUTH stays on for its mailbox (allowlist it)']);
    const basic = adviceFor({ mailbox: 'a@contoso.com', protocols: ['Basic'], tlsVersions: ['TLS 1.0'], failures: 1 }).join(' | ');
    expect(basic).toContain('1 failed sign-in(s): the device already fails');
    expect(basic).toContain('OAuth (XOAUTH2, SMTP.Send or SMTP.SendAsApp) if the client supports it');
    expect(basic).toContain('High Volume Email for internal recipients only (Basic allowed until September 2028)');
    expect(basic).toContain('Azure Communication Services Email for external recipients');
    expect(basic).toContain('connector / on-premises relay');
    expect(basic).toContain('smtp-legacy.office365.com');
    expect(adviceFor({ mailbox: 'a@contoso.com', protocols: ['Unknown'], tlsVersions: [], failures: 0 })[0]).toContain('auth type unknown');
  });

  it('CSV cells a spreadsheet would run are neutralised; separators and quotes are quoted', () => {
    expect(csvCell('=cmd|\' /C calc\'!A0')).toBe("'=cmd|' /C calc'!A0");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell('scanner@contoso.com')).toBe('scanner@contoso.com');
    const csv = dossierCsv(buildDossiers(merged, resolved, false, new Set(), null));
    expect(csv.startsWith('\uFEFFSender,Mailbox,Addresses seen,')).toBe(true);
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(4);
  });
});
