/**
 * Makes realistic simulated tenants, deterministic by seed: people, shared mailboxes, rooms and the
 * devices and apps that still submit mail with SMTP AUTH, a share of explicit per-mailbox overrides
 * ($false and $true), authentication policies, and SMTP AUTH activity records that include the cases
 * the product must catch (active senders with an explicit $false, active senders that only follow
 * the organization switch and would break when it is turned off).
 */
import { InputError } from '../../errors.js';
import { DEVICE_MAILBOXES, EQUIPMENT_NAMES, FIRST_NAMES, LAST_NAMES, ROOM_NAMES, SHARED_MAILBOX_NAMES } from './names.js';
import { seededRandom, type Random } from './random.js';
import type { SimGraph, SimMailbox, SimSignIn, SimSmtpAuthActivity, TenantState } from './state.js';

export interface GenerateTenantOptions {
  mailboxes: number;
  seed: number | string;
  /** The tenant's onmicrosoft name (default contoso.onmicrosoft.com); the custom domain is derived from it. */
  organization?: string;
  /** The organization switch; default false (SMTP AUTH on, as in tenants made before 2020). */
  orgSmtpAuthDisabled?: boolean;
  /** Mailboxes with an explicit $false (SMTP AUTH kept on whatever the organization says). */
  explicitEnabled?: number;
  /** Mailboxes with an explicit $true. */
  explicitDisabled?: number;
  /** How many mailboxes appear in the SMTP AUTH activity records. */
  activeSenders?: number;
  /** The simulated clock (ISO-8601); default null (the real clock). Activity is dated relative to it. */
  clock?: string;
  /**
   * Also make what the other usage sources see (default false, so older fixtures stay as they were):
   * first seen, client IP and TLS version per sender (the request-report export), and Graph's view:
   * Basic SMTP sign-ins of the Basic senders, plus a sender that only the sign-in logs know (it never
   * reached the SMTP AUTH clients report window) and a device whose sign-ins already fail.
   */
  usageDetail?: boolean;
}

export const MIN_MAILBOXES = 10;
export const MAX_MAILBOXES = 100_000;
export const BLOCK_BASIC_SMTP_POLICY = 'Block Basic SMTP';
export const ALLOW_BASIC_SMTP_POLICY = 'Allow Basic SMTP for devices';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

export function generateTenant(options: GenerateTenantOptions): TenantState {
  const total = options.mailboxes;
  if (!Number.isInteger(total) || total < MIN_MAILBOXES || total > MAX_MAILBOXES) {
    throw new InputError(`a simulated tenant has ${MIN_MAILBOXES} to ${MAX_MAILBOXES} mailboxes, not ${total}`, undefined, 'pass --mailboxes with a whole number in that range');
  }
  const random = seededRandom(options.seed);
  const organization = options.organization ?? 'contoso.onmicrosoft.com';
  const domains = domainsOf(organization);
  const reference = options.clock ? new Date(options.clock) : new Date();
  if (Number.isNaN(reference.getTime())) throw new InputError(`the clock '${options.clock}' is not an ISO-8601 date`);

  const mailboxes = makeMailboxes(random, total, domains);
  const devices = mailboxes.filter((m) => m.RecipientTypeDetails === 'UserMailbox' && isDevice(m));
  const others = random.shuffle(mailboxes.filter((m) => !isDevice(m) && m.RecipientTypeDetails !== 'RoomMailbox' && m.RecipientTypeDetails !== 'EquipmentMailbox'));

  const enabledCount = clamp(options.explicitEnabled ?? Math.max(devices.length + 1, Math.round(total * 0.01)), 0, devices.length + others.length);
  const disabledCount = clamp(options.explicitDisabled ?? Math.max(1, Math.round(total * 0.005)), 0, devices.length + others.length - enabledCount);
  // Devices are the mailboxes admins opened SMTP AUTH for, so they get the explicit $false first.
  const enabled = [...devices, ...others].slice(0, enabledCount);
  for (const m of enabled) m.SmtpClientAuthenticationDisabled = false;
  const rest = others.filter((m) => m.SmtpClientAuthenticationDisabled === null);
  for (const m of rest.slice(0, disabledCount)) m.SmtpClientAuthenticationDisabled = true;
  const following = rest.slice(disabledCount);

  // A few people are held to a policy that blocks Basic SMTP, one of them an explicit $false mailbox:
  // allowlisted, yet Basic submissions still fail (the layered block the verify step should warn about).
  const blocked = following.slice(0, Math.max(1, Math.round(total * 0.005)));
  const enabledPeople = enabled.filter((m) => !isDevice(m));
  if (enabledPeople[0]) blocked.push(enabledPeople[0]);
  for (const m of blocked) m.AuthenticationPolicy = BLOCK_BASIC_SMTP_POLICY;
  devices.forEach((m, i) => {
    if (i % 2 === 0) m.AuthenticationPolicy = ALLOW_BASIC_SMTP_POLICY;
  });

  const senders = chooseSenders(random, options.activeSenders ?? clamp(Math.round(total * 0.02), 5, total), enabled, following);
  const smtpAuthActivity = senders.map((m) => activityOf(random, m, reference));

  const server = serverName(random);
  const graph = options.usageDetail ? usageDetail(seededRandom(`${String(options.seed)}:usage`), smtpAuthActivity, following.filter((m) => !senders.includes(m)), reference) : undefined;
  return {
    schemaVersion: 1,
    organization: { Name: organization, Server: server },
    transportConfig: { SmtpClientAuthenticationDisabled: options.orgSmtpAuthDisabled ?? false },
    organizationConfig: { DefaultAuthenticationPolicy: null },
    authenticationPolicies: [
      { Name: BLOCK_BASIC_SMTP_POLICY, AllowBasicAuthSmtp: false },
      { Name: ALLOW_BASIC_SMTP_POLICY, AllowBasicAuthSmtp: true },
    ],
    mailboxes,
    historicalSearches: [],
    smtpAuthActivity,
    ...(graph ? { graph } : {}),
    clock: options.clock ?? null,
    historicalSearchPolls: 3,
    faults: {},
  };
}

interface Domains {
  custom: string;
  initial: string;
}

function domainsOf(organization: string): Domains {
  const lower = organization.toLowerCase();
  const tenant = lower.split('.')[0] ?? 'contoso';
  return lower.endsWith('.onmicrosoft.com') ? { custom: `${tenant}.com`, initial: lower } : { custom: lower, initial: `${tenant}.onmicrosoft.com` };
}

function serverName(random: Random): string {
  const prefix = random.pick(['DM6PR', 'BN8PR', 'AM6PR', 'DB9PR', 'SN4PR', 'CH2PR', 'VI1PR']);
  return `${prefix}${random.int(10, 19)}MB${random.int(1000, 9999)}.PROD.OUTLOOK.COM`;
}

const DEVICE_ALIASES: ReadonlySet<string> = new Set(DEVICE_MAILBOXES.map((d) => d.alias));

function isDevice(m: SimMailbox): boolean {
  return DEVICE_ALIASES.has(m.Alias.replace(/-\d+$/, ''));
}

function makeMailboxes(random: Random, total: number, domains: Domains): SimMailbox[] {
  const used = new Set<string>();
  // Next number to try per base name: common names repeat thousands of times in a large tenant.
  const nextSuffix = new Map<string, number>();
  const unique = (base: string) => {
    let alias = base;
    let n = nextSuffix.get(base) ?? 2;
    while (used.has(alias)) alias = `${base}${n++}`;
    nextSuffix.set(base, n);
    used.add(alias);
    return alias;
  };
  const make = (base: string, displayName: string, type: string, extra: string[] = []): SimMailbox => {
    const alias = unique(base);
    const primary = `${alias}@${domains.custom}`;
    const addresses = [`SMTP:${primary}`, `smtp:${alias}@${domains.initial}`];
    for (const candidate of extra) {
      if (!used.has(candidate)) {
        used.add(candidate);
        addresses.push(`smtp:${candidate}@${domains.custom}`);
      }
    }
    return {
      Guid: random.guid(),
      Name: alias,
      DisplayName: displayName,
      Alias: alias,
      PrimarySmtpAddress: primary,
      UserPrincipalName: primary,
      EmailAddresses: addresses,
      RecipientTypeDetails: type,
      SmtpClientAuthenticationDisabled: null,
      AuthenticationPolicy: null,
    };
  };

  const deviceCount = clamp(Math.round(total * 0.003), 2, 60);
  const rooms = Math.round(total * 0.02);
  const equipment = Math.round(total * 0.005);
  const shared = Math.max(1, Math.round(total * 0.05));
  const people = total - deviceCount - rooms - equipment - shared;

  const mailboxes: SimMailbox[] = [];
  for (let i = 0; i < deviceCount; i++) {
    const device = DEVICE_MAILBOXES[i % DEVICE_MAILBOXES.length]!;
    const round = Math.floor(i / DEVICE_MAILBOXES.length);
    const suffix = round === 0 ? '' : `-${String(round + 1).padStart(2, '0')}`;
    mailboxes.push(make(`${device.alias}${suffix}`, `${device.displayName}${suffix ? ` ${round + 1}` : ''}`, 'UserMailbox'));
  }
  for (let i = 0; i < shared; i++) {
    const name = SHARED_MAILBOX_NAMES[i % SHARED_MAILBOX_NAMES.length]!;
    const round = Math.floor(i / SHARED_MAILBOX_NAMES.length);
    mailboxes.push(make(slug(name), round === 0 ? name : `${name} ${round + 1}`, 'SharedMailbox'));
  }
  for (let i = 0; i < rooms; i++) {
    const name = ROOM_NAMES[i % ROOM_NAMES.length]!;
    const floor = Math.floor(i / ROOM_NAMES.length) + 1;
    mailboxes.push(make(`room-${slug(name)}-${floor}`, `Room ${name} (floor ${floor})`, 'RoomMailbox'));
  }
  for (let i = 0; i < equipment; i++) {
    const name = EQUIPMENT_NAMES[i % EQUIPMENT_NAMES.length]!;
    mailboxes.push(make(slug(name), `${name} ${Math.floor(i / EQUIPMENT_NAMES.length) + 1}`, 'EquipmentMailbox'));
  }
  for (let i = 0; i < people; i++) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const short = `${first[0]}${last}`.toLowerCase();
    mailboxes.push(make(`${first}.${last}`.toLowerCase(), `${first} ${last}`, 'UserMailbox', random.chance(0.2) ? [short] : []));
  }
  // Exchange lists recipients in no meaningful order; interleave the kinds.
  return random.shuffle(mailboxes);
}

function chooseSenders(random: Random, count: number, enabled: SimMailbox[], following: SimMailbox[]): SimMailbox[] {
  const wanted = clamp(count, 0, enabled.length + following.length);
  // Roughly half the senders have an explicit $false, the rest only follow the organization: those
  // break when the organization switch turns off unless they are allowlisted.
  const fromEnabled = Math.min(enabled.length, Math.max(Math.ceil(wanted / 2), Math.min(wanted, enabled.filter(isDevice).length)));
  const fromFollowing = Math.min(following.length, wanted - fromEnabled);
  const senders = [...enabled.slice(0, fromEnabled), ...following.slice(0, fromFollowing)];
  return random.shuffle(senders);
}

function activityOf(random: Random, m: SimMailbox, reference: Date): SimSmtpAuthActivity {
  const device = isDevice(m);
  const protocol = device || random.chance(0.5) ? 'Basic' : 'OAuth';
  const maxMessages = device ? 5000 : 300;
  const messages = Math.max(1, Math.floor(Math.exp(random.next() * Math.log(maxMessages))));
  // Reports lag 1 to 4 hours behind; activity spans the last 30 days.
  const ago = HOUR_MS * 4 + Math.floor(random.next() * (29 * DAY_MS));
  return { sender: m.PrimarySmtpAddress, protocol, messages, lastSeen: new Date(reference.getTime() - ago).toISOString() };
}

/** SMTP AUTH failures Entra records for Basic sign-ins (signIn.status.errorCode). */
const WRONG_PASSWORD = { errorCode: 50126, failureReason: 'Error validating credentials due to invalid username or password.' };

function usageDetail(random: Random, activity: SimSmtpAuthActivity[], quiet: SimMailbox[], reference: Date): SimGraph {
  const signIns: SimSignIn[] = [];
  const signIn = (upn: string, at: number, ip: string, failed: boolean) =>
    signIns.push({
      id: random.guid(),
      createdDateTime: new Date(at).toISOString(),
      userPrincipalName: upn,
      clientAppUsed: 'Authenticated SMTP',
      ipAddress: ip,
      status: failed ? { ...WRONG_PASSWORD } : { errorCode: 0, failureReason: null },
    });
  const ip = () => (random.chance(0.7) ? `10.${random.int(0, 30)}.${random.int(0, 255)}.${random.int(2, 254)}` : `203.0.113.${random.int(2, 254)}`);
  for (const a of activity) {
    const last = Date.parse(a.lastSeen);
    a.firstSeen = new Date(last - random.int(0, 20) * DAY_MS - random.int(0, 23) * HOUR_MS).toISOString();
    a.clientIp = ip();
    a.tlsVersion = a.protocol === 'Basic' && random.chance(0.25) ? random.pick(['TLS 1.0', 'TLS 1.1']) : 'TLS 1.2';
    // Entra logs Basic SMTP sign-ins only (an OAuth client signs in for a token instead).
    if (a.protocol !== 'Basic') continue;
    const first = Math.max(Date.parse(a.firstSeen), reference.getTime() - 29 * DAY_MS);
    for (let i = 0, n = random.int(1, 3); i < n; i++) signIn(a.sender, first + Math.floor(random.next() * Math.max(1, last - first)), a.clientIp, false);
  }
  // Only the sign-in logs see these two: a device that signed in lately (after the exported report's
  // window) and one whose password is wrong (already broken: it fails before SMTP AUTH matters).
  const [lately, broken] = quiet;
  if (lately) signIn(lately.UserPrincipalName, reference.getTime() - 2 * HOUR_MS, ip(), false);
  if (broken) {
    const at = ip();
    for (let i = 1; i <= 3; i++) signIn(broken.UserPrincipalName, reference.getTime() - i * DAY_MS, at, true);
  }
  signIns.sort((x, y) => y.createdDateTime.localeCompare(x.createdDateTime));
  return { signIns, entraPremium: true, concealedNames: false };
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}
