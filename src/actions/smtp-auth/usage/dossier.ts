/**
 * One dossier per sender: everything the usage sources saw about it, the mailbox it resolves to,
 * its SMTP AUTH now and after the plan, whether it is allowlisted, and what to do about it. The
 * advice follows shared/EXCHANGE-FACTS.md "Migration targets" and "Timeline".
 */
import type { ResolvedMailbox } from '../resolve-mailboxes.js';
import type { ReportTable } from '../../types.js';
import { effectiveSmtpAuthDisabled } from '../effective.js';
import type { TriState } from '../../../exchange/simulator/state.js';
import { SOURCE_LABELS, type MergedSender, type UsageSourceKind } from './evidence.js';
import type { AuthProtocol } from './usage-table.js';
import { csvCell } from '../../../csv-cell.js';

/** Exchange Team blog, 27 January 2026: Basic SMTP AUTH disabled by default for existing tenants. */
export const BASIC_SMTP_OFF_BY_DEFAULT = 'end of December 2026';

export interface SenderDossier {
  sender: string;
  /** Primary address of the mailbox; null: no mailbox has this address (a typo or a deleted account). */
  mailbox: string | null;
  protocols: AuthProtocol[];
  messages: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  clientIps: string[];
  tlsVersions: string[];
  failures: number;
  /** Email app usage's "Last Activity Date": the last activity in ANY email app, not an SMTP date. */
  lastEmailAppActivity: string | null;
  /** What no source gave (messages, firstSeen, lastSeen, protocol), each with the sources that saw the sender: shown as unknown, never 0. */
  unknown: Partial<Record<'messages' | 'firstSeen' | 'lastSeen' | 'protocol', string>>;
  sources: UsageSourceKind[];
  /** Every address the sources used for it (primary, proxy addresses, UPN). */
  addresses: string[];
  smtpAuthNow: 'on' | 'off';
  /** null where there is no plan (verify: "now" is after). */
  smtpAuthAfter: 'on' | 'off' | null;
  allowlisted: boolean;
  /** Basic seen: breaks when Microsoft turns Basic SMTP AUTH off by default, whatever the switches say. */
  breaksEndOf2026: boolean;
  advice: string[];
}

export interface SwitchesAfter {
  organization: boolean | undefined;
  /** Lower-case primary address → value after the plan, for mailboxes the plan changes. */
  mailboxes: ReadonlyMap<string, TriState>;
}

export function buildDossiers(
  senders: readonly MergedSender[],
  resolved: readonly ResolvedMailbox[],
  organizationDisabled: boolean,
  allowlisted: ReadonlySet<string>,
  after: SwitchesAfter | null,
): SenderDossier[] {
  const byEntry = new Map(resolved.map((r) => [r.entry.toLowerCase(), r]));
  return senders.map((s) => {
    const r = byEntry.get(s.sender);
    const mailbox = r?.mailbox ?? null;
    const value: TriState = r?.value ?? null;
    const now = effectiveSmtpAuthDisabled(value, organizationDisabled) ? 'off' : 'on';
    let smtpAuthAfter: SenderDossier['smtpAuthAfter'] = null;
    if (after) {
      const changed = mailbox !== null && after.mailboxes.has(mailbox.toLowerCase());
      const valueAfter = changed ? (after.mailboxes.get(mailbox!.toLowerCase()) as TriState) : value;
      smtpAuthAfter = effectiveSmtpAuthDisabled(valueAfter, after.organization ?? organizationDisabled) ? 'off' : 'on';
    }
    const listed = allowlisted.has(s.sender) || (mailbox !== null && allowlisted.has(mailbox.toLowerCase()));
    const dossier: SenderDossier = {
      sender: s.sender,
      mailbox,
      protocols: s.protocols,
      messages: s.messages,
      firstSeen: s.firstSeen,
      lastSeen: s.lastSeen,
      clientIps: s.clientIps,
      tlsVersions: s.tlsVersions,
      failures: s.failures ?? 0,
      lastEmailAppActivity: s.lastEmailAppActivity ?? null,
      unknown: unknownOf(s),
      sources: s.sources,
      addresses: s.addresses,
      smtpAuthNow: now,
      smtpAuthAfter,
      allowlisted: listed,
      breaksEndOf2026: s.protocols.includes('Basic'),
      advice: [],
    };
    dossier.advice = adviceFor(dossier);
    return dossier;
  });
}

/** The fields no source gave, each saying which sources saw the sender (and did not give it). */
function unknownOf(s: MergedSender): SenderDossier['unknown'] {
  const by = `not given by ${s.sources.map((source) => SOURCE_LABELS[source]).join(', ')}`;
  const unknown: SenderDossier['unknown'] = {};
  if (s.messages === null) unknown.messages = by;
  if (s.firstSeen === null) unknown.firstSeen = by;
  if (s.lastSeen === null) unknown.lastSeen = by;
  if (!s.protocols.some((p) => p !== 'Unknown')) unknown.protocol = by;
  return unknown;
}

export function adviceFor(d: Pick<SenderDossier, 'mailbox' | 'protocols' | 'tlsVersions' | 'failures'>): string[] {
  const advice: string[] = [];
  if (d.mailbox === null) advice.push('no mailbox has this address: a typo in the device\'s settings or a deleted account; correct the device or retire it');
  if (d.failures > 0) advice.push(`${d.failures} failed sign-in(s): the device already fails (e.g. a wrong password); fix or retire it first`);
  const oauthOnly = d.protocols.length > 0 && d.protocols.every((p) => p === 'OAuth');
  if (oauthOnly) {
    advice.push('already OAuth: keeps working while SMTP AUTH stays on for its mailbox (allowlist it)');
  } else {
    const unknown = !d.protocols.includes('Basic');
    advice.push(
      `${unknown ? 'auth type unknown (the source does not say); if Basic: ' : ''}OAuth (XOAUTH2, SMTP.Send or SMTP.SendAsApp) if the client supports it`,
      'else High Volume Email for internal recipients only (Basic allowed until September 2028), Azure Communication Services Email for external recipients, or a connector / on-premises relay',
    );
  }
  if (d.tlsVersions.some((v) => v === 'TLS 1.0' || v === 'TLS 1.1')) advice.push('TLS 1.0/1.1: works only through smtp-legacy.office365.com; update its TLS or use a relay');
  return advice;
}

/** The dated warning for a Basic sender that keeps SMTP AUTH (verify, and the plan's risks). */
export function basicDeadlineMessage(d: SenderDossier): string {
  return `breaks when Microsoft switches Basic SMTP AUTH off by default (${BASIC_SMTP_OFF_BY_DEFAULT})${d.allowlisted ? ', even though allowlisted' : ''}. Advice: ${d.advice.join('; ')}`;
}

export const DOSSIER_TITLE = 'SMTP AUTH senders (every source merged, one line per sender)';

/** A date no source gave is "unknown" in every format, never a blank that reads as "none". */
const DAY = (iso: string | null) => (iso ? iso.slice(0, 10) : UNKNOWN);
const UNKNOWN = 'unknown';

export function dossierTable(dossiers: readonly SenderDossier[], withAfter: boolean): ReportTable {
  return {
    title: DOSSIER_TITLE,
    columns: ['Sender', 'Mailbox', 'Protocol', 'Messages', 'First seen', 'Last seen', 'Last activity in any email app', 'Client IPs', 'TLS', 'Seen by', withAfter ? 'SMTP AUTH now -> after' : 'SMTP AUTH', 'Allowlisted'],
    rows: dossiers.map((d) => [
      d.sender,
      d.mailbox === null ? 'no mailbox' : d.mailbox.toLowerCase() === d.sender ? 'yes' : d.mailbox,
      d.protocols.join('+') || 'Unknown',
      d.messages ?? UNKNOWN,
      DAY(d.firstSeen),
      DAY(d.lastSeen),
      d.lastEmailAppActivity ? d.lastEmailAppActivity.slice(0, 10) : null,
      d.clientIps.slice(0, 3).join(' ') + (d.clientIps.length > 3 ? ` +${d.clientIps.length - 3}` : ''),
      d.tlsVersions.map((v) => v.replace('TLS ', '')).join(' '),
      d.sources.map(shortSource).join(', '),
      withAfter && d.smtpAuthAfter ? `${d.smtpAuthNow} -> ${d.smtpAuthAfter}` : d.smtpAuthNow,
      d.allowlisted ? 'yes' : 'no',
    ]),
  };
}

export function shortSource(source: UsageSourceKind): string {
  return { 'admin-center-report': 'clients report', 'request-report': 'request report', 'entra-sign-ins': 'sign-in logs', 'email-app-usage': 'app usage' }[source];
}

export const DOSSIER_CSV_COLUMNS = [
  'Sender',
  'Mailbox',
  'Addresses seen',
  'Protocols',
  'Messages',
  'First seen',
  'Last seen',
  'Last activity in any email app',
  'Client IPs',
  'TLS versions',
  'Seen by',
  'SMTP AUTH now',
  'SMTP AUTH after plan',
  'Allowlisted',
  `Breaks ${BASIC_SMTP_OFF_BY_DEFAULT}`,
  'Failed sign-ins',
  'Advice',
];

/**
 * The dossiers as CSV for the team chasing device owners (UTF-8 with BOM so spreadsheets detect it).
 * A cell that a spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with ' : the data
 * came from devices and files nobody vouches for.
 */
export function dossierCsv(dossiers: readonly SenderDossier[]): string {
  const rows = dossiers.map((d) => [
    d.sender,
    d.mailbox ?? 'no mailbox',
    d.addresses.join(' '),
    d.protocols.join('+') || 'Unknown',
    d.messages === null ? UNKNOWN : String(d.messages),
    d.firstSeen ?? UNKNOWN,
    d.lastSeen ?? UNKNOWN,
    d.lastEmailAppActivity ?? '',
    d.clientIps.join(' '),
    d.tlsVersions.join(' '),
    d.sources.map((s) => SOURCE_LABELS[s]).join('; '),
    d.smtpAuthNow,
    d.smtpAuthAfter ?? '',
    d.allowlisted ? 'yes' : 'no',
    d.breaksEndOf2026 ? 'yes' : 'no',
    String(d.failures),
    d.advice.join(' | '),
  ]);
  return `\uFEFF${[DOSSIER_CSV_COLUMNS, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

export { csvCell } from '../../../csv-cell.js';
