/**
 * A simulated fleet (`exo-playbook sim init-fleet`): N tenants made by the tenant generator with
 * seeds, sizes and senders of their own, and an inventory that targets them, in the shape the fleet
 * runner reads (docs/OPERATIONS.md "Fleets"):
 *
 *   inventory.yaml                 tenants with id, tenantId (a GUID), name, some tags, target
 *                                  sim:tenants/<id>.json and vars (allowlist, usageReport)
 *   tenants/<id>.json              the simulated tenants (also EXO_STUB_STATE_DIR for the stub module)
 *   allowlists/<id>.txt            per-tenant allowlists (one address a line)
 *   usage/<id>.csv                 each tenant's SMTP AUTH clients report, as the admin center exports
 *                                  it: the usage evidence the lockout guard needs before apply
 *
 * Building is pure (files as data, deterministic by seed and clock); writing is separate.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { generateTenant, MAX_MAILBOXES, MIN_MAILBOXES } from './generate.js';
import { seededRandom, type Random } from './random.js';
import { writeStateFile } from './state-file.js';
import type { TenantState } from './state.js';
import { clientsReportCsv } from './usage-export.js';

export const MIN_FLEET_TENANTS = 1;
export const MAX_FLEET_TENANTS = 5000;
/** The period the usage reports cover (the admin center offers up to 90 days). */
export const FLEET_USAGE_DAYS = 30;

/** Company names for tenant domains, after Microsoft's sample companies. */
const COMPANIES = [
  'contoso', 'fabrikam', 'northwind', 'adatum', 'litware', 'tailspin', 'wingtip', 'woodgrove', 'proseware', 'fourthcoffee',
  'alpineski', 'cohowinery', 'lucerne', 'margiestravel', 'wideworld', 'treyresearch', 'blueyonder', 'humongous', 'relecloud', 'cpandl',
  'graphicdesign', 'southridge', 'lamnahealthcare', 'bellowscollege', 'nodpublishers', 'fineartschool', 'consolidated', 'vanarsdel', 'firstupconsultants', 'tailwindtraders',
] as const;

const REGIONS = ['eu', 'us', 'apac'] as const;

export interface FleetOptions {
  tenants: number;
  /** The typical tenant size: each tenant has between half and one and a half times this. */
  mailboxes: number;
  seed: string;
  /** The tenants' simulated clock (ISO-8601). */
  clock: string;
  /** The inventory JSON schema, relative to the fleet's folder (the editor's modeline); none when absent. */
  schemaPath?: string;
}

export interface FleetTenant {
  id: string;
  tenantId: string;
  name: string;
  tags: string[];
  /** How this tenant signs in, when not the inventory's default (a partner customer). */
  partner: boolean;
  state: TenantState;
  allowlist: string[];
  /** Active senders left off the allowlist: the lockout guard refuses to break them. */
  unlisted: string[];
}

export interface FleetFile {
  /** Relative to the fleet's folder, with forward slashes. */
  path: string;
  content: string | Buffer;
}

export interface Fleet {
  tenants: FleetTenant[];
  /** Every file but the tenant states (written from `tenants[].state`). */
  files: FleetFile[];
}

/** A tenant as the inventory and the command's summary know it: everything but its state. */
export type FleetEntry = Omit<FleetTenant, 'state'> & { mailboxes: number; organizationSmtpAuthDisabled: boolean; senders: number };

/** The tenants one by one (a fleet of 1,000 large tenants never has to fit in memory at once). */
export function fleetTenants(options: FleetOptions): Generator<FleetTenant> {
  const { tenants: count, mailboxes } = options;
  if (!Number.isInteger(count) || count < MIN_FLEET_TENANTS || count > MAX_FLEET_TENANTS) {
    throw new InputError(`a simulated fleet has ${MIN_FLEET_TENANTS} to ${MAX_FLEET_TENANTS} tenants, not ${count}`, undefined, 'pass --tenants with a whole number in that range');
  }
  if (!Number.isInteger(mailboxes) || mailboxes < MIN_MAILBOXES || mailboxes > MAX_MAILBOXES) {
    throw new InputError(`a simulated tenant has ${MIN_MAILBOXES} to ${MAX_MAILBOXES} mailboxes, not ${mailboxes}`, undefined, 'pass --mailboxes with a whole number in that range');
  }
  // Checked above, when called: a generator's own body would run only at the first tenant.
  return (function* () {
    const random = seededRandom(`${options.seed}:fleet`);
    const width = Math.max(2, String(count).length);
    for (let i = 0; i < count; i++) yield makeTenant(random, i, width, options);
  })();
}

/** The whole fleet in memory, files as data (tests, small fleets). */
export function buildFleet(options: FleetOptions): Fleet {
  const tenants = [...fleetTenants(options)];
  const files = [{ path: 'inventory.yaml', content: inventoryYaml(tenants.map(entryOf), options.schemaPath) }, ...tenants.flatMap(tenantFiles)];
  return { tenants, files };
}

/** A tenant's own files besides its state: its allowlist and its usage report. */
function tenantFiles(tenant: FleetTenant): FleetFile[] {
  return [
    { path: `allowlists/${tenant.id}.txt`, content: allowlistText(tenant) },
    { path: `usage/${tenant.id}.csv`, content: clientsReportCsv(tenant.state, FLEET_USAGE_DAYS) },
  ];
}

function entryOf(tenant: FleetTenant): FleetEntry {
  const { state, ...entry } = tenant;
  return { ...entry, mailboxes: state.mailboxes.length, organizationSmtpAuthDisabled: state.transportConfig.SmtpClientAuthenticationDisabled, senders: state.smtpAuthActivity.length };
}

/**
 * Makes the fleet and writes it into `dir`, which must not exist or be empty (a fleet never mixes
 * with files it did not write), one tenant at a time; the inventory last. `playbook` is copied in as
 * well when given (its file name and text). Returns the tenants without their states.
 */
export async function writeFleet(dir: string, options: FleetOptions, playbook?: { name: string; text: string }): Promise<FleetEntry[]> {
  const tenants = fleetTenants(options);
  await assertFreshFolder(dir);
  for (const folder of ['tenants', 'allowlists', 'usage']) await mkdir(join(dir, folder), { recursive: true });
  const write = (file: FleetFile) => writeFile(join(dir, file.path), file.content, { flag: 'wx' });
  const entries: FleetEntry[] = [];
  for (const tenant of tenants) {
    await writeStateFile(join(dir, 'tenants', `${tenant.id}.json`), tenant.state);
    for (const file of tenantFiles(tenant)) await write(file);
    entries.push(entryOf(tenant));
  }
  if (playbook) await write({ path: playbook.name, content: playbook.text });
  await write({ path: 'inventory.yaml', content: inventoryYaml(entries, options.schemaPath) });
  return entries;
}

/** The file name of the fleet playbook the package ships (branch `fleet`), copied into every fleet. */
export const FLEET_PLAYBOOK = 'smtp-auth-fleet.yaml';

/** The shipped fleet playbook under `packageRoot`/playbooks, when the package has one. */
export async function shippedFleetPlaybook(packageRoot: string): Promise<{ name: string; text: string } | undefined> {
  try {
    return { name: FLEET_PLAYBOOK, text: await readFile(join(packageRoot, 'playbooks', FLEET_PLAYBOOK), 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function assertFreshFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new InputError(`cannot use ${dir} for the fleet: ${error.code ?? error.message}`);
  });
  if (!info) return;
  if (!info.isDirectory()) throw new InputError(`${dir} exists and is not a folder`, undefined, 'name a new folder for the fleet');
  if ((await readdir(dir)).length > 0) {
    throw new InputError(`${dir} is not empty; sim init-fleet writes only into a new or empty folder`, undefined, 'name a new folder, or remove the old fleet yourself');
  }
}

function makeTenant(random: Random, index: number, width: number, options: FleetOptions): FleetTenant {
  const company = COMPANIES[index % COMPANIES.length]!;
  const number = String(index + 1).padStart(width, '0');
  const id = `tenant${number}-${company}.onmicrosoft.com`;
  const size = clamp(Math.round(options.mailboxes * (0.5 + random.next())), MIN_MAILBOXES, MAX_MAILBOXES);
  // Every tenant keeps its devices (the senders with an explicit $false) on its allowlist; three
  // tenants in four also keep the senders that only follow the organization switch. The fourth
  // leaves those off while SMTP AUTH is still on for its organization, so its plan takes SMTP AUTH
  // away from active senders and the lockout guard refuses its apply.
  const keepsFollowers = index % 4 !== 3;
  // About one other tenant in five was made after January 2020: SMTP AUTH already off for the organization.
  const madeAfter2020 = random.chance(0.2) && keepsFollowers;
  const state = generateTenant({
    mailboxes: size,
    seed: `${options.seed}:${id}`,
    organization: id,
    orgSmtpAuthDisabled: madeAfter2020,
    activeSenders: random.int(4, Math.max(6, Math.round(size * 0.03))),
    clock: options.clock,
    usageDetail: true,
  });
  const tenantId = random.guid();
  state.organization.TenantId = tenantId;

  const explicitFalse = new Set(state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === false).map((m) => m.PrimarySmtpAddress.toLowerCase()));
  const senders = [...new Set(state.smtpAuthActivity.map((a) => a.sender.toLowerCase()))];
  const allowlist = senders.filter((s) => explicitFalse.has(s) || keepsFollowers).sort();
  const unlisted = senders.filter((s) => !allowlist.includes(s)).sort();

  const tags: string[] = [];
  if (random.chance(0.7)) tags.push(random.pick(REGIONS));
  if (index < 3) tags.push('pilot');
  return {
    id,
    tenantId,
    name: `${capitalize(company)} (tenant ${number})`,
    tags,
    // One customer in eight is reached as a partner (GDAP): the per-tenant auth override.
    partner: index % 8 === 5,
    state,
    allowlist,
    unlisted,
  };
}

function allowlistText(tenant: Pick<FleetTenant, 'id' | 'allowlist'>): string {
  const lines = [`# Mailboxes of ${tenant.id} that keep SMTP AUTH (simulated fleet)`, ...tenant.allowlist];
  return `${lines.join('\n')}\n`;
}

/** YAML by hand: comments and flow-style auth objects read better than a generic dump. */
function inventoryYaml(tenants: readonly Omit<FleetTenant, 'state'>[], schemaPath: string | undefined): string {
  const q = (value: string) => JSON.stringify(value);
  const lines = [
    ...(schemaPath ? [`# yaml-language-server: $schema=${schemaPath}`] : []),
    '# A simulated fleet (exo-playbook sim init-fleet). Each tenant targets its own simulated state file;',
    '# the sign-in references below are never read for sim: targets.',
    'apiVersion: exo-playbook/v1',
    'kind: Inventory',
    'defaults:',
    '  # One multi-tenant app, consented in every customer tenant (app-only: -AppId -Certificate... -Organization <tenant>).',
    '  auth: { method: certificate, appId: "${env:EXO_APP_ID}", certificatePath: "${env:EXO_CERT_PEM}" }',
    'tenants:',
  ];
  for (const tenant of tenants) {
    lines.push(`  - id: ${tenant.id}`, `    tenantId: ${q(tenant.tenantId)}`, `    name: ${q(tenant.name)}`);
    if (tenant.tags.length > 0) lines.push(`    tags: [${tenant.tags.join(', ')}]`);
    lines.push(`    target: ${q(`sim:tenants/${tenant.id}.json`)}`);
    if (tenant.partner) {
      lines.push(
        '    # A partner customer (GDAP): a token from its tenant (tenantId), then -AccessToken -DelegatedOrganization.',
        '    auth: { method: partner, appId: "${env:EXO_PARTNER_APP_ID}", clientSecret: "${env:EXO_PARTNER_SECRET}" }',
      );
    }
    lines.push(`    vars: { allowlist: ${q(`allowlists/${tenant.id}.txt`)}, usageReport: ${q(`usage/${tenant.id}.csv`)} }`);
  }
  return `${lines.join('\n')}\n`;
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}
