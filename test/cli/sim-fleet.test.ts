/**
 * `exo-playbook sim init-fleet` through the built CLI (run `npm run build` first): the files it
 * writes, the same bytes from the same seed and clock, its refusals (exit 1), and that what it writes
 * is enough for the shipped disable playbook to run on any of its tenants (allowlist and usage
 * evidence per tenant) and for the stub module to serve its tenants per organization.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStateFile } from '../../src/exchange/simulator/state-file.js';
import { noPwsh, startStubSession } from '../exchange/pwsh/pwsh-for-tests.js';

const root = path.resolve(import.meta.dirname, '../..');
const bin = path.join(root, 'bin/exo-playbook.js');
const CLOCK = '2026-12-07T09:00:00Z';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'sim-fleet-cli-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, NO_COLOR: '1', EXO_PLAYBOOK_LOCK_DIR: path.join(dir, 'locks'), EXO_APP_ID: 'placeholder', EXO_CERT_PEM: 'placeholder.pem' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: dir, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every file under `folder` with its bytes, by relative path. */
async function tree(folder: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(folder, full)] = (await readFile(full)).toString('base64');
  }
  return files;
}

interface Inventory {
  tenants: { id: string; tenantId: string; target: string; vars: { allowlist: string; usageReport: string } }[];
}

describe('exo-playbook sim init-fleet', () => {
  it('writes 25 tenants, their inventory, allowlists and usage reports, and says which tenants the guard will refuse', async () => {
    const result = await cli('sim', 'init-fleet', 'fleet', '--tenants', '25', '--mailboxes', '400', '--seed', 's1', '--clock', CLOCK);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Wrote fleet: 25 simulated tenant\(s\), \d+-\d+ mailboxes each, \d+ SMTP AUTH senders in all\./);
    expect(result.stdout).toContain('EXO_STUB_STATE_DIR=fleet/tenants');
    expect(result.stdout).toMatch(/6 tenant\(s\) have active senders outside their allowlist \(the lockout guard refuses their apply\): tenant04-adatum\.onmicrosoft\.com, /);
    const fleet = path.join(dir, 'fleet');
    // The fleet playbook comes from branch `fleet`: copied when the package ships it, said so when not.
    const shipped = path.join(root, 'playbooks', 'smtp-auth-fleet.yaml');
    if (existsSync(shipped)) {
      expect(result.stdout).toContain('Copied the fleet playbook: fleet/smtp-auth-fleet.yaml');
      const copy = await readFile(path.join(fleet, 'smtp-auth-fleet.yaml'), 'utf8');
      expect(copy.split('\n').slice(1)).toEqual((await readFile(shipped, 'utf8')).split('\n').slice(1));
      expect(copy.split('\n')[0]).toBe(`# yaml-language-server: $schema=${path.relative(fleet, path.join(root, 'playbooks', 'playbook.schema.json'))}`);
    } else {
      expect(result.stdout).toContain('No fleet playbook was copied: this package has no playbooks/smtp-auth-fleet.yaml.');
    }
    const inventoryText = await readFile(path.join(fleet, 'inventory.yaml'), 'utf8');
    // The editor's schema modeline points at the package's inventory schema, relative to the inventory.
    expect(inventoryText.split('\n')[0]).toBe(`# yaml-language-server: $schema=${path.relative(fleet, path.join(root, 'schemas', 'inventory.schema.json'))}`);
    const inventory = load(inventoryText) as Inventory;
    expect(inventory.tenants).toHaveLength(25);
    for (const tenant of inventory.tenants) {
      const state = await readStateFile(path.join(fleet, tenant.target.slice('sim:'.length)));
      expect(state.organization).toMatchObject({ Name: tenant.id, TenantId: tenant.tenantId });
      expect((await readFile(path.join(fleet, tenant.vars.allowlist), 'utf8')).split('\n')[0]).toBe(`# Mailboxes of ${tenant.id} that keep SMTP AUTH (simulated fleet)`);
      expect((await readFile(path.join(fleet, tenant.vars.usageReport), 'utf8')).startsWith('\uFEFFSender address,')).toBe(true);
    }
  });

  it('--format json lists each tenant: id, tenant id, tags, size, organization switch, senders, who is left off its allowlist', async () => {
    const result = await cli('sim', 'init-fleet', 'fleet', '--tenants', '4', '--mailboxes', '40', '--seed', 'json', '--clock', CLOCK, '--format', 'json');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { dir: string; inventory: string; tenants: { id: string; tenantId: string; mailboxes: number; senders: number; allowlisted: number; unlisted: string[] }[] };
    expect(summary.inventory).toBe(path.join(dir, 'fleet', 'inventory.yaml'));
    const inventory = load(await readFile(summary.inventory, 'utf8')) as Inventory;
    expect(summary.tenants.map((t) => [t.id, t.tenantId])).toEqual(inventory.tenants.map((t) => [t.id, t.tenantId]));
    for (const tenant of summary.tenants) {
      const state = await readStateFile(path.join(dir, 'fleet', 'tenants', `${tenant.id}.json`));
      expect(tenant.mailboxes).toBe(state.mailboxes.length);
      expect(tenant.senders).toBe(state.smtpAuthActivity.length);
    }
    expect(summary.tenants[3]!.unlisted.length).toBeGreaterThan(0);
  });

  it('writes the same bytes from the same seed and clock', async () => {
    expect((await cli('sim', 'init-fleet', 'a', '--tenants', '4', '--mailboxes', '50', '--seed', 'same', '--clock', CLOCK)).code).toBe(0);
    expect((await cli('sim', 'init-fleet', 'b', '--tenants', '4', '--mailboxes', '50', '--seed', 'same', '--clock', CLOCK)).code).toBe(0);
    const a = await tree(path.join(dir, 'a'));
    expect(Object.keys(a).filter((file) => file !== 'smtp-auth-fleet.yaml')).toHaveLength(1 + 4 * 3);
    expect(await tree(path.join(dir, 'b'))).toEqual(a);
  });

  it.each([
    [['--tenants', '0'], "option '--tenants <n>' argument '0' is invalid. use a whole number from 1 to 5000."],
    [['--tenants', 'many'], "option '--tenants <n>' argument 'many' is invalid. use a whole number from 1 to 5000."],
    [['--tenants', '2.5'], "argument '2.5' is invalid"],
    [['--mailboxes', '3'], "option '--mailboxes <n>' argument '3' is invalid"],
  ])('refuses %j with exit 1 and writes nothing', async (args, message) => {
    const result = await cli('sim', 'init-fleet', 'fleet', ...args);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a folder that is not empty (exit 1), leaving what is there', async () => {
    await mkdir(path.join(dir, 'fleet'));
    await writeFile(path.join(dir, 'fleet', 'notes.txt'), 'precious');
    const result = await cli('sim', 'init-fleet', 'fleet', '--tenants', '2', '--mailboxes', '20');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not empty; sim init-fleet writes only into a new or empty folder');
    expect(await readdir(path.join(dir, 'fleet'))).toEqual(['notes.txt']);
  });

  it("is enough for the shipped disable playbook on any tenant: applied where the allowlist keeps every sender, refused (exit 4) where it leaves senders out", async () => {
    expect((await cli('sim', 'init-fleet', 'fleet', '--tenants', '4', '--mailboxes', '60', '--seed', 'play', '--clock', CLOCK)).code).toBe(0);
    const shipped = await readFile(path.join(root, 'playbooks', 'smtp-auth-disable.yaml'), 'utf8');
    const run = async (id: string) => {
      // The single-tenant playbook pointed at one tenant's allowlist and usage report.
      const playbook = shipped
        .replace('${file:allowlist.example.txt}', `\${file:allowlists/${id}.txt}`)
        .replace('report: smtp-auth-clients-report.csv', `report: usage/${id}.csv`)
        .replace('organization: contoso.onmicrosoft.com', `organization: ${id}`)
        .replace('$schema=./playbook.schema.json', `$schema=${path.join(root, 'playbooks', 'playbook.schema.json')}`);
      await writeFile(path.join(dir, 'fleet', `${id}.yaml`), playbook);
      return cli('apply', `fleet/${id}.yaml`, '--target', `sim:fleet/tenants/${id}.json`, '--yes', '--runs-dir', 'runs');
    };
    const kept = await run('tenant01-contoso.onmicrosoft.com');
    expect(kept.code, kept.stdout + kept.stderr).toBe(0);
    expect(kept.stdout).toContain('COMPLIANT');
    const refused = await run('tenant04-adatum.onmicrosoft.com');
    expect(refused.code, refused.stdout + refused.stderr).toBe(4);
    expect(refused.stdout + refused.stderr).toMatch(/BLOCKING \S+@tenant04-adatum\.com: loses SMTP AUTH/);
  });

  it.skipIf(noPwsh)('its tenants folder serves the stub module per organization (EXO_STUB_STATE_DIR)', async () => {
    expect((await cli('sim', 'init-fleet', 'fleet', '--tenants', '3', '--mailboxes', '20', '--seed', 'stub', '--clock', CLOCK)).code).toBe(0);
    const tenants = path.join(dir, 'fleet', 'tenants');
    const session = await startStubSession('', undefined, { env: { EXO_STUB_STATE_DIR: tenants } });
    try {
      for (const id of ['tenant02-fabrikam.onmicrosoft.com', 'tenant03-northwind.onmicrosoft.com']) {
        const state = await readStateFile(path.join(tenants, `${id}.json`));
        await session.invoke('Connect-ExchangeOnline', { Organization: id, ShowBanner: false });
        const mailboxes = await session.invoke('Get-EXOCASMailbox', { ResultSize: 'Unlimited' });
        expect(mailboxes.objects.map((m) => m.PrimarySmtpAddress)).toEqual(state.mailboxes.map((m) => m.PrimarySmtpAddress));
      }
    } finally {
      await session.close();
    }
  });
});
