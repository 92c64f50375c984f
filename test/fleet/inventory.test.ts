/**
 * The inventory and the loader's tenant context, without processes: shards (stable, a partition),
 * --shard and --tenants errors, `${tenant.…}` references (inside `${file:}` too, located errors with
 * "did you mean"), tenant.organization and tenant.auth from the inventory, paths made absolute, and
 * a hash that changes with the tenant's vars.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inShard, parseInventory, parseShard, selectTenants, shardOf, tenantContext, type Inventory } from '../../src/fleet/inventory.js';
import { loadPlaybookFromText, PlaybookInvalid } from '../../src/playbook/load.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'exo-inventory-'));
  mkdirSync(join(dir, 'allowlists'));
  writeFileSync(join(dir, 'allowlists', 'a.onmicrosoft.com.txt'), 'device@a.example\n');
  writeFileSync(join(dir, 'allowlists', 'b.onmicrosoft.com.txt'), 'printer@b.example\nscanner@b.example\n');
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'partner.txt'), 'not-a-real-secret\n', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INVENTORY = `apiVersion: exo-playbook/v1
kind: Inventory
defaults:
  auth: { method: partner, appId: app, clientSecret: "\${file:secrets/partner.txt}" }
  vars: { region: eu, limit: 3 }
tenants:
  - id: a.onmicrosoft.com
    tenantId: 6f1c0d2e-0000-4000-8000-00000000000a
    name: Alpha
    tags: [pilot]
    vars: { allowlist: allowlists/a.onmicrosoft.com.txt }
  - id: b.onmicrosoft.com
    tags: [eu]
    auth: { method: certificate, appId: app, certificatePath: certs/app.pem }
    vars: { allowlist: allowlists/b.onmicrosoft.com.txt, region: us }
`;
const inventory = (text = INVENTORY): Inventory => parseInventory(text, 'inventory.yaml', join(dir, 'inventory.yaml'), 'hash');

const PLAYBOOK = `apiVersion: exo-playbook/v1
name: fleet-unit
tenant:
  organization: "\${tenant.id}"
  auth: { method: azure-cli }
vars:
  allow: "\${file:\${tenant.vars.allowlist}}"
acceptNoUsageEvidence: { reason: "unit test in \${tenant.vars.region}" }
steps:
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: "\${vars.allow}" }
`;
const load = (text: string, tenant?: ReturnType<typeof tenantContext>) => loadPlaybookFromText(text, join(dir, 'playbook.yaml'), { env: {}, signInEnv: 'warn', ...(tenant ? { tenant } : {}) });

describe('shards', () => {
  it('every tenant lands in exactly one shard, the same one every time', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `t${i}.onmicrosoft.com`);
    const counts = new Array(4).fill(0);
    for (const id of ids) {
      const k = shardOf(id, 4);
      expect(k).toBe(shardOf(id.toUpperCase(), 4));
      counts[k - 1] += 1;
    }
    expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
    for (const c of counts) expect(c).toBeGreaterThan(25);
    const inv = inventory();
    const all = [1, 2, 3].flatMap((k) => inShard(inv.tenants, { k, n: 3 }).map((t) => t.id));
    expect(all.sort()).toEqual(['a.onmicrosoft.com', 'b.onmicrosoft.com']);
  });

  it.each([
    ['0/4', 'not a shard'],
    ['5/4', 'there is no shard 5 of 4'],
    ['two/4', 'not a shard'],
  ])('--shard %s is refused', (text, message) => {
    expect(() => parseShard(text)).toThrow(message);
  });
});

describe('--tenants', () => {
  it('selects by id, name, tag and glob, in inventory order; a typo is an error with a suggestion', () => {
    const inv = inventory();
    expect(selectTenants(inv, ['alpha']).map((t) => t.id)).toEqual(['a.onmicrosoft.com']);
    expect(selectTenants(inv, ['eu', 'pilot']).map((t) => t.id)).toEqual(['a.onmicrosoft.com', 'b.onmicrosoft.com']);
    expect(selectTenants(inv, ['b.*']).map((t) => t.id)).toEqual(['b.onmicrosoft.com']);
    expect(() => selectTenants(inv, ['pilto'])).toThrow(/matches no tenant of this inventory .*did you mean `pilot`/);
  });
});

describe('the inventory', () => {
  it('makes auth paths absolute against its own folder and merges vars over the defaults', () => {
    const [a, b] = inventory().tenants;
    expect(a!.vars).toEqual({ region: 'eu', limit: 3, allowlist: 'allowlists/a.onmicrosoft.com.txt' });
    expect(b!.vars.region).toBe('us');
    const secret = a!.auth!.kind === 'map' ? a!.auth!.entries.get('clientSecret')!.value : undefined;
    expect(secret).toMatchObject({ value: `\${file:${join(dir, 'secrets', 'partner.txt')}}` });
    const cert = b!.auth!.kind === 'map' ? b!.auth!.entries.get('certificatePath')!.value : undefined;
    expect(cert).toMatchObject({ value: join(dir, 'certs', 'app.pem') });
  });

  it('refuses an inline secret in a tenant\'s auth, located, without echoing it', () => {
    const text = INVENTORY.replace('auth: { method: certificate, appId: app, certificatePath: certs/app.pem }', 'auth: { method: partner, appId: app, clientSecret: s3cr3t-value }');
    const error = (() => {
      try {
        inventory(text);
      } catch (e) {
        return e as PlaybookInvalid;
      }
      throw new Error('accepted');
    })();
    expect(error.problems[0]).toMatchObject({ location: { file: 'inventory.yaml', line: 14 }, path: 'tenants.1.auth.clientSecret' });
    expect(error.message).not.toContain('s3cr3t-value');
  });
});

describe('the tenant context in the loader', () => {
  it('resolves ${tenant.…}, inside ${file:} too; the organization is the inventory id; the hash follows the tenant', async () => {
    const inv = inventory();
    const a = await load(PLAYBOOK, tenantContext(inv.tenants[0]!, inv));
    const b = await load(PLAYBOOK, tenantContext(inv.tenants[1]!, inv));
    expect(a.playbook.tenant.organization).toBe('a.onmicrosoft.com');
    expect(b.playbook.tenant.organization).toBe('b.onmicrosoft.com');
    expect(a.playbook.steps[0]!.with).toMatchObject({ mailboxes: ['device@a.example'] });
    expect(b.playbook.steps[0]!.with).toMatchObject({ mailboxes: ['printer@b.example', 'scanner@b.example'] });
    expect(a.playbook.acceptNoUsageEvidence).toEqual({ reason: 'unit test in eu' });
    // The inventory's auth replaces the playbook's; a partner gets the tenant's id as its customer tenant.
    expect(a.playbook.tenant.auth).toMatchObject({ method: 'partner', customerTenantId: '6f1c0d2e-0000-4000-8000-00000000000a' });
    expect(b.playbook.tenant.auth).toMatchObject({ method: 'certificate', certificatePath: join(dir, 'certs', 'app.pem') });
    expect(a.fileRoots).toContain(dir);
    // The secret stays a reference (read only at sign-in), pointing into the inventory's folder.
    expect(JSON.stringify(a.playbook)).not.toContain('not-a-real-secret');
    expect(a.hash).not.toBe(b.hash);
  });

  it('a misspelt var or field is a located error with "did you mean"; outside a fleet run every ${tenant.…} is', async () => {
    const inv = inventory();
    const typo = PLAYBOOK.replace('${tenant.vars.allowlist}', '${tenant.vars.alowlist}');
    await expect(load(typo, tenantContext(inv.tenants[0]!, inv))).rejects.toThrow(/playbook\.yaml:7:\d+: tenant a\.onmicrosoft\.com has no var `alowlist`; did you mean `allowlist`\?/);
    // (tenant.organization is always the inventory's id, whatever the playbook wrote there.)
    const field = PLAYBOOK.replace('unit test in ${tenant.vars.region}', 'for ${tenant.ID}');
    await expect(load(field, tenantContext(inv.tenants[0]!, inv))).rejects.toThrow(/unknown reference `\$\{tenant\.ID\}`; did you mean `id`\?/);
    const noName = PLAYBOOK.replace('unit test in ${tenant.vars.region}', 'for ${tenant.name}');
    await expect(load(noName, tenantContext(inv.tenants[1]!, inv))).rejects.toThrow(/tenant b\.onmicrosoft\.com has no `name` in the inventory/);
    await expect(load(PLAYBOOK)).rejects.toThrow(/playbook\.yaml:4:\d+: `\$\{tenant\.id\}` is only known in a fleet run/);
  });
});
