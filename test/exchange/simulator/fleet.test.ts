/**
 * `sim init-fleet`'s model (src/exchange/simulator/fleet.ts): N tenants with their own seeds, sizes
 * and senders, an inventory in the shape the fleet runner reads (checked here structurally: the
 * `fleet` branch owns the inventory's schema), per-tenant allowlists and usage reports, the same
 * files from the same seed and clock, and a folder it writes only when new or empty.
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { buildFleet, FLEET_PLAYBOOK, shippedFleetPlaybook, writeFleet, type Fleet, type FleetOptions } from '../../../src/exchange/simulator/fleet.js';
import { readStateFile } from '../../../src/exchange/simulator/state-file.js';
import { parseAllowlist } from '../../../src/playbook/allowlist-file.js';
import { authSchema } from '../../../src/playbook/schema.js';

const CLOCK = '2026-12-07T09:00:00.000Z';
const options = (extra: Partial<FleetOptions> = {}): FleetOptions => ({ tenants: 12, mailboxes: 100, seed: 'fleet-test', clock: CLOCK, ...extra });
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const INITIAL_DOMAIN = /^[a-z0-9][a-z0-9-]{0,62}\.onmicrosoft\.com$/;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-fleet-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const fileText = (fleet: Fleet, path: string) => String(fleet.files.find((f) => f.path === path)?.content);

interface InventoryTenant {
  id: string;
  tenantId?: string;
  name?: string;
  tags?: string[];
  target?: string;
  auth?: unknown;
  vars?: Record<string, string>;
}

/**
 * The inventory's shape as the fleet interface gives it: apiVersion, kind, defaults (auth through
 * the playbook's authSchema), tenants with a unique initial-domain id and only the known keys.
 * Returns the problems, so a failure names them all.
 */
function inventoryProblems(document: unknown): string[] {
  const problems: string[] = [];
  const inventory = document as { apiVersion?: unknown; kind?: unknown; defaults?: Record<string, unknown>; tenants?: InventoryTenant[] };
  if (inventory.apiVersion !== 'exo-playbook/v1') problems.push('apiVersion');
  if (inventory.kind !== 'Inventory') problems.push('kind');
  for (const key of Object.keys(inventory)) if (!['apiVersion', 'kind', 'defaults', 'tenants'].includes(key)) problems.push(`unknown key ${key}`);
  for (const key of Object.keys(inventory.defaults ?? {})) if (!['auth', 'target', 'vars'].includes(key)) problems.push(`unknown defaults key ${key}`);
  if (inventory.defaults?.auth !== undefined && !authSchema.safeParse(inventory.defaults.auth).success) problems.push('defaults.auth');
  if (!Array.isArray(inventory.tenants) || inventory.tenants.length === 0) return [...problems, 'tenants'];
  const ids = new Set<string>();
  for (const [i, tenant] of inventory.tenants.entries()) {
    const at = `tenants[${i}]`;
    for (const key of Object.keys(tenant)) if (!['id', 'tenantId', 'name', 'tags', 'target', 'auth', 'vars'].includes(key)) problems.push(`${at}: unknown key ${key}`);
    if (!INITIAL_DOMAIN.test(tenant.id)) problems.push(`${at}.id ${tenant.id}`);
    if (ids.has(tenant.id)) problems.push(`${at}.id duplicate ${tenant.id}`);
    ids.add(tenant.id);
    if (tenant.tenantId !== undefined && !GUID.test(tenant.tenantId)) problems.push(`${at}.tenantId`);
    if (tenant.name !== undefined && typeof tenant.name !== 'string') problems.push(`${at}.name`);
    if (tenant.tags !== undefined && !(Array.isArray(tenant.tags) && tenant.tags.every((t) => typeof t === 'string'))) problems.push(`${at}.tags`);
    if (tenant.target !== undefined && !/^(exchange|sim:.+)$/.test(tenant.target)) problems.push(`${at}.target`);
    if (tenant.auth !== undefined && !authSchema.safeParse(tenant.auth).success) problems.push(`${at}.auth`);
    for (const [name, value] of Object.entries(tenant.vars ?? {})) if (typeof value !== 'string') problems.push(`${at}.vars.${name}`);
  }
  return problems;
}

describe('buildFleet', () => {
  it('makes N tenants with their own GUID, size around M, seed, senders and allowlist, and an inventory that targets them', () => {
    const fleet = buildFleet(options());
    expect(fleet.tenants).toHaveLength(12);
    const inventory = load(fileText(fleet, 'inventory.yaml')) as { tenants: InventoryTenant[] };
    expect(inventoryProblems(inventory)).toEqual([]);
    expect(inventory.tenants.map((t) => t.id)).toEqual(fleet.tenants.map((t) => t.id));
    expect(inventory.tenants[0]?.id).toBe('tenant01-contoso.onmicrosoft.com');

    for (const [i, tenant] of fleet.tenants.entries()) {
      const entry = inventory.tenants[i]!;
      expect(entry).toMatchObject({ tenantId: tenant.tenantId, target: `sim:tenants/${tenant.id}.json`, vars: { allowlist: `allowlists/${tenant.id}.txt`, usageReport: `usage/${tenant.id}.csv` } });
      expect(tenant.state.organization).toMatchObject({ Name: tenant.id, TenantId: tenant.tenantId });
      const size = tenant.state.mailboxes.length;
      expect(size).toBeGreaterThanOrEqual(50);
      expect(size).toBeLessThanOrEqual(150);
      // The allowlist names mailboxes of this tenant only.
      const addresses = new Set(tenant.state.mailboxes.map((m) => m.PrimarySmtpAddress.toLowerCase()));
      const listed = parseAllowlist(fileText(fleet, `allowlists/${tenant.id}.txt`), 'a.txt').map((e) => String(e.value));
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((a) => addresses.has(a))).toBe(true);
      // The usage report is the admin center's export of this tenant's senders.
      const report = fileText(fleet, `usage/${tenant.id}.csv`);
      expect(report.split('\r\n')[0]).toBe('\uFEFFSender address,Domain,TLS 1.0 %,TLS 1.1 %,TLS 1.2 %,Messages sent,Authentication protocol');
      for (const activity of tenant.state.smtpAuthActivity) expect(report).toContain(`${activity.sender},`);
    }
    const distinct = (values: unknown[]) => new Set(values.map((v) => JSON.stringify(v))).size;
    expect(distinct(fleet.tenants.map((t) => t.tenantId))).toBe(12);
    expect(distinct(fleet.tenants.map((t) => t.state.mailboxes.length))).toBeGreaterThan(6);
    expect(distinct(fleet.tenants.map((t) => t.state.smtpAuthActivity.map((a) => a.sender.split('@')[0])))).toBe(12);
    // Some tenants are tagged, some not; one is reached as a partner customer.
    expect(inventory.tenants.filter((t) => t.tags?.length).length).toBeGreaterThan(0);
    expect(inventory.tenants.filter((t) => !t.tags?.length).length).toBeGreaterThan(0);
    expect(inventory.tenants.filter((t) => t.tags?.includes('pilot')).map((t) => t.id)).toHaveLength(3);
    expect(inventory.tenants[5]?.auth).toEqual({ method: 'partner', appId: '${env:EXO_PARTNER_APP_ID}', clientSecret: '${env:EXO_PARTNER_SECRET}' });
  });

  it('leaves the followers of the organization switch off the allowlist in one tenant in four, where SMTP AUTH is still on: those senders would break', () => {
    const fleet = buildFleet(options());
    for (const [i, tenant] of fleet.tenants.entries()) {
      if (i % 4 === 3) {
        expect(tenant.unlisted.length).toBeGreaterThan(0);
        expect(tenant.state.transportConfig.SmtpClientAuthenticationDisabled).toBe(false);
        const following = new Set(tenant.state.mailboxes.filter((m) => m.SmtpClientAuthenticationDisabled === null).map((m) => m.PrimarySmtpAddress.toLowerCase()));
        expect(tenant.unlisted.every((s) => following.has(s))).toBe(true);
      } else {
        expect(tenant.unlisted).toEqual([]);
      }
    }
  });

  it('makes the same files from the same seed and clock, other tenants from another seed', () => {
    const a = buildFleet(options());
    const b = buildFleet(options());
    expect(b.files).toEqual(a.files);
    expect(b.tenants.map((t) => t.state)).toEqual(a.tenants.map((t) => t.state));
    const c = buildFleet(options({ seed: 'another' }));
    expect(c.tenants.map((t) => t.tenantId)).not.toEqual(a.tenants.map((t) => t.tenantId));
    expect(fileText(c, 'inventory.yaml')).not.toBe(fileText(a, 'inventory.yaml'));
  });

  it.each([
    [{ tenants: 0 }, 'a simulated fleet has 1 to 5000 tenants, not 0'],
    [{ tenants: 2.5 }, 'not 2.5'],
    [{ tenants: Number.NaN }, 'not NaN'],
    [{ mailboxes: 5 }, 'a simulated tenant has 10 to 100000 mailboxes, not 5'],
  ])('refuses %o', (extra, message) => {
    expect(() => buildFleet(options(extra))).toThrow(InputError);
    expect(() => buildFleet(options(extra))).toThrow(message);
  });

  it('names tenants with zero-padded numbers wide enough for the fleet, unique past the list of company names', () => {
    const fleet = buildFleet(options({ tenants: 120, mailboxes: 10 }));
    const ids = fleet.tenants.map((t) => t.id);
    expect(new Set(ids).size).toBe(120);
    expect(ids[0]).toBe('tenant001-contoso.onmicrosoft.com');
    expect(ids.every((id) => INITIAL_DOMAIN.test(id))).toBe(true);
  });
});

describe('writeFleet', () => {
  it('writes, one tenant at a time, exactly the files buildFleet makes, the playbook it is given, and returns the tenants', async () => {
    const fleet = buildFleet(options({ tenants: 3 }));
    const out = join(dir, 'fleet');
    const entries = await writeFleet(out, options({ tenants: 3 }), { name: FLEET_PLAYBOOK, text: 'apiVersion: exo-playbook/v1\n' });
    expect(entries.map((e) => [e.id, e.tenantId, e.mailboxes, e.unlisted])).toEqual(fleet.tenants.map((t) => [t.id, t.tenantId, t.state.mailboxes.length, t.unlisted]));
    expect((await readdir(out)).sort()).toEqual(['allowlists', 'inventory.yaml', 'smtp-auth-fleet.yaml', 'tenants', 'usage']);
    expect((await readdir(join(out, 'tenants'))).sort()).toEqual(fleet.tenants.map((t) => `${t.id}.json`).sort());
    expect(await readStateFile(join(out, 'tenants', `${fleet.tenants[1]!.id}.json`))).toEqual(fleet.tenants[1]!.state);
    for (const file of fleet.files) expect(await readFile(join(out, file.path))).toEqual(Buffer.from(file.content));
  });

  it('writes into an empty folder, and refuses a folder with anything in it or a file in its place', async () => {
    await mkdir(join(dir, 'empty'));
    await writeFleet(join(dir, 'empty'), options({ tenants: 1 }));
    expect((await readdir(join(dir, 'empty'))).sort()).toEqual(['allowlists', 'inventory.yaml', 'tenants', 'usage']);
    await expect(writeFleet(join(dir, 'empty'), options({ tenants: 1 }))).rejects.toThrow(/is not empty; sim init-fleet writes only into a new or empty folder/);
    await writeFile(join(dir, 'a-file'), 'precious');
    await expect(writeFleet(join(dir, 'a-file'), options({ tenants: 1 }))).rejects.toThrow(/exists and is not a folder/);
    expect(await readFile(join(dir, 'a-file'), 'utf8')).toBe('precious');
  });

  it('refuses bad options before it creates anything', async () => {
    await expect(writeFleet(join(dir, 'none'), options({ tenants: 0 }))).rejects.toThrow(InputError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('finds the shipped fleet playbook under the package root, and none when the package has none', async () => {
    expect(await shippedFleetPlaybook(dir)).toBeUndefined();
    await mkdir(join(dir, 'playbooks'));
    await writeFile(join(dir, 'playbooks', FLEET_PLAYBOOK), 'name: smtp-auth-fleet\n');
    expect(await shippedFleetPlaybook(dir)).toEqual({ name: FLEET_PLAYBOOK, text: 'name: smtp-auth-fleet\n' });
  });
});
