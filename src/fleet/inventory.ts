/**
 * The fleet inventory (YAML): which tenants a fleet run serves, how it signs in to each, and the
 * values a playbook reads as `${tenant.…}`. Loaded like a playbook (src/playbook: size cap, strict
 * UTF-8, a located tree, zod, every problem at file:line:col with "did you mean"), and validated for
 * what only an inventory can get wrong: duplicate tenant ids, inline secrets.
 *
 * Secrets are never inline: certificatePassword, token, graphToken and clientSecret must be one
 * `${env:NAME}` or `${file:path}` reference; they stay references until the tenant's run signs in.
 * Relative paths in an auth block (certificatePath, tokenFile, `${file:}` secrets) are relative to the
 * inventory's folder; they are made absolute here, so the playbook's folder does not change them.
 */
import { createHash } from 'node:crypto';
import { readRegularFile } from '../files/regular-file.js';
import path from 'node:path';
import { z } from 'zod';
import { InputError, type SourceLocation } from '../errors.js';
import { child, locateIn, toPlain, type Located, type LocatedMapping, type ScalarValue } from '../playbook/located.js';
import { PlaybookInvalid, orderProblems, pathToString, type Problem } from '../playbook/problems.js';
import { schemaProblems } from '../playbook/schema-problems.js';
import { authSchema, SECRET_REFERENCE_PATTERN } from '../playbook/schema.js';
import { closest } from '../playbook/suggest.js';
import type { TenantContext } from '../playbook/tenant-context.js';
import { parseYamlTree } from '../playbook/yaml-tree.js';

/** An inventory of a few thousand tenants is well under this; a larger file is refused before parsing. */
export const MAX_INVENTORY_BYTES = 8 * 1024 * 1024;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const tenantTarget = z
  .string()
  .regex(/^(exchange|sim:.+)$/, 'must be exchange or sim:<state.json relative to the inventory>')
  .describe('exchange (the real tenant), or sim:<state.json> (a simulated tenant; the path is relative to the inventory). --target on the command line overrides it when given.');

const varName = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const vars = z
  .record(z.string().regex(varName, 'a var name is letters, digits, _ and -, starting with a letter or _'), z.union([z.string(), z.number(), z.boolean()]))
  .describe('Values a playbook reads as ${tenant.vars.NAME} (e.g. the path of the tenant\'s allowlist file, relative to the playbook).');

const tag = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a tag is letters, digits, ., _ and -');

export const inventoryTenantSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}\.onmicrosoft\.com$/i, "must be the tenant's primary .onmicrosoft.com domain (e.g. contoso.onmicrosoft.com), as Connect-ExchangeOnline -Organization and -DelegatedOrganization take it")
    .describe('The tenant\'s primary .onmicrosoft.com domain: tenant.organization of its run, its lock, its run folder (runs/<id>/...). Unique.'),
  tenantId: z.string().regex(GUID, 'must be the tenant id (a GUID)').optional().describe('The tenant id (GUID): ${tenant.tenantId}; a partner sign-in asks for its token with this authority.'),
  name: z.string().min(1).max(200).optional().describe('A display name (reports, --tenants).'),
  tags: z.array(tag).optional().describe('Groups for --tenants (e.g. eu, pilot).'),
  target: tenantTarget.optional(),
  auth: authSchema.optional().describe('How to sign in to this tenant; replaces defaults.auth as a whole. Default: defaults.auth, else the playbook\'s tenant.auth.'),
  vars: vars.optional().describe('Merged over defaults.vars.'),
});

export const inventorySchema = z.strictObject({
  apiVersion: z.literal('exo-playbook/v1'),
  kind: z.literal('Inventory'),
  description: z.string().optional(),
  defaults: z
    .strictObject({
      auth: authSchema.optional().describe('How to sign in to every tenant that has no auth of its own (e.g. one multi-tenant app with a certificate).'),
      target: tenantTarget.optional(),
      vars: vars.optional(),
    })
    .optional()
    .describe('What every tenant inherits unless it sets its own.'),
  tenants: z.array(inventoryTenantSchema).min(1, 'an inventory lists at least one tenant').describe('The tenants, each run in isolation (own sessions, lock, run folder, journal).'),
});

export type InventoryFile = z.infer<typeof inventorySchema>;

export interface InventoryTenant {
  /** Position in the inventory (reports list tenants in this order). */
  index: number;
  id: string;
  tenantId?: string;
  name?: string;
  tags: string[];
  /** exchange, sim:<absolute path>, or undefined (the command line's --target, default exchange). */
  target?: string;
  vars: Record<string, ScalarValue>;
  /** Its auth block (own or defaults) with paths made absolute; undefined: the playbook's own. */
  auth?: Located;
  /** The auth method, for reports and the sign-in summary. */
  authMethod?: string;
  idLocation: SourceLocation;
}

export interface Inventory {
  /** Absolute path. */
  file: string;
  /** As the user named it (messages). */
  displayFile: string;
  dir: string;
  /** sha256 of the file's bytes: results of different inventories are never merged. */
  hash: string;
  tenants: InventoryTenant[];
  /** Where `tenants:` is written (errors about the selection point there). */
  tenantsLocation: SourceLocation;
}

const SECRET_KEYS = ['certificatePassword', 'token', 'graphToken', 'clientSecret'];
const PATH_KEYS = ['certificatePath', 'tokenFile'];

export async function loadInventory(file: string, cwd: string): Promise<Inventory> {
  const absolute = path.resolve(cwd, file);
  const at = (message: string, hint?: string): PlaybookInvalid => new PlaybookInvalid([{ location: { file, line: 1, col: 1 }, message, path: '', ...(hint ? { hint } : {}) }]);
  // Opened once, a regular file only (a FIFO or /dev/zero is refused at once), size checked on the
  // descriptor before reading (issue 24: no input hangs).
  const read = await readRegularFile(absolute, { maxBytes: MAX_INVENTORY_BYTES });
  if (!read.ok) {
    if (read.reason === 'missing') throw at('no such inventory file');
    if (read.reason === 'too-large') throw at(`the inventory is larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MiB`, 'split the fleet into several inventories');
    throw at(`cannot read the inventory: ${read.detail}`);
  }
  const bytes = read.bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw at('cannot read the inventory: it is not UTF-8', 'save the file as UTF-8');
  }
  return parseInventory(text, file, absolute, createHash('sha256').update(bytes).digest('hex'));
}

export function parseInventory(text: string, displayFile: string, absolute: string, hash: string): Inventory {
  const dir = path.dirname(absolute);
  const tree = parseYamlTree(text.replace(/^\uFEFF/, ''), displayFile);
  if (!tree.root || tree.problems.length) throw new PlaybookInvalid(orderProblems(tree.problems.length ? tree.problems : [{ location: { file: displayFile, line: 1, col: 1 }, message: 'the inventory is empty', path: '' }]));
  const root = tree.root;
  if (root.kind !== 'map') throw new PlaybookInvalid([{ location: root.loc, message: 'an inventory is a mapping of keys (apiVersion, kind, defaults, tenants)', path: '' }]);
  const problems: Problem[] = [];
  problems.push(...inlineSecrets(root));
  const parsed = inventorySchema.safeParse(toPlain(root));
  if (!parsed.success) problems.push(...schemaProblems(root, parsed.error.issues, inventorySchema));
  if (parsed.success) problems.push(...duplicates(root, parsed.data));
  if (problems.length || !parsed.success) throw new PlaybookInvalid(orderProblems(problems));

  const data = parsed.data;
  const defaultsAuth = child(child(root, 'defaults'), 'auth');
  const tenants = data.tenants.map((t, index): InventoryTenant => {
    const node = child(child(root, 'tenants'), index);
    const ownAuth = child(node, 'auth');
    const auth = ownAuth ?? defaultsAuth;
    const target = t.target ?? data.defaults?.target;
    const authConfig = t.auth ?? data.defaults?.auth;
    return {
      index,
      id: t.id.toLowerCase(),
      ...(t.tenantId ? { tenantId: t.tenantId } : {}),
      ...(t.name ? { name: t.name } : {}),
      tags: t.tags ?? [],
      ...(target ? { target: normalizeInventoryTarget(target, dir) } : {}),
      vars: { ...(data.defaults?.vars ?? {}), ...(t.vars ?? {}) },
      ...(auth ? { auth: absolutePaths(auth, dir) } : {}),
      ...(authConfig ? { authMethod: authConfig.method } : {}),
      idLocation: child(node, 'id')!.loc,
    };
  });
  const tenantsEntry = (root as LocatedMapping).entries.get('tenants');
  return { file: absolute, displayFile, dir, hash, tenants, tenantsLocation: tenantsEntry?.keyLoc ?? root.loc };
}

function normalizeInventoryTarget(target: string, dir: string): string {
  if (target === 'exchange') return target;
  const file = target.slice('sim:'.length);
  return `sim:${path.resolve(dir, file)}`;
}

/** Every auth block's secrets: one reference each, never the secret itself. */
function inlineSecrets(root: Located): Problem[] {
  const blocks: { node: Located; at: (string | number)[] }[] = [];
  const defaultsAuth = child(child(root, 'defaults'), 'auth');
  if (defaultsAuth) blocks.push({ node: defaultsAuth, at: ['defaults', 'auth'] });
  const list = child(root, 'tenants');
  if (list?.kind === 'seq') list.items.forEach((item, i) => {
    const auth = child(item, 'auth');
    if (auth) blocks.push({ node: auth, at: ['tenants', i, 'auth'] });
  });
  const problems: Problem[] = [];
  for (const { node, at } of blocks) {
    if (node.kind !== 'map') continue;
    for (const key of SECRET_KEYS) {
      const value = node.entries.get(key)?.value;
      if (!value) continue;
      const ok = value.kind === 'scalar' && typeof value.value === 'string' && SECRET_REFERENCE_PATTERN.test(value.value);
      if (!ok) problems.push({ location: value.loc, message: 'secrets are never written inline in an inventory; use ${env:NAME}', path: pathToString([...at, key]), hint: 'or ${file:path} to a file only the runner can read (relative to the inventory)' });
    }
  }
  return problems;
}

function duplicates(root: Located, data: InventoryFile): Problem[] {
  const seen = new Map<string, number>();
  const problems: Problem[] = [];
  data.tenants.forEach((t, i) => {
    const key = t.id.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, i);
      return;
    }
    const firstLoc = locateIn(root, ['tenants', first, 'id']);
    problems.push({
      location: locateIn(root, ['tenants', i, 'id']),
      message: `duplicate tenant id \`${t.id}\` (first at line ${firstLoc.line})`,
      path: pathToString(['tenants', i, 'id']),
      hint: 'each tenant appears once: it has one lock, one run folder and one row in the report',
    });
  });
  return problems;
}

/** The auth block with its paths relative to the inventory made absolute (they must not follow the playbook's folder). */
function absolutePaths(node: Located, dir: string): Located {
  if (node.kind !== 'map') return node;
  const entries = new Map(node.entries);
  for (const [key, entry] of node.entries) {
    const value = entry.value;
    if (value.kind !== 'scalar' || typeof value.value !== 'string') continue;
    let text = value.value;
    if (PATH_KEYS.includes(key) && !text.includes('${')) text = path.resolve(dir, text);
    const fileRef = /^\$\{file:(.+)\}$/.exec(text);
    if (fileRef && SECRET_KEYS.includes(key)) text = `\${file:${path.resolve(dir, fileRef[1]!.trim())}}`;
    if (text !== value.value) entries.set(key, { keyLoc: entry.keyLoc, value: { ...value, value: text, verbatim: false } });
  }
  return { ...node, entries };
}

/** The loader's tenant context for one tenant's run (src/playbook/tenant-context.ts). */
export function tenantContext(tenant: InventoryTenant, inventory: Pick<Inventory, 'dir'>): TenantContext {
  return {
    id: tenant.id,
    ...(tenant.tenantId ? { tenantId: tenant.tenantId } : {}),
    ...(tenant.name ? { name: tenant.name } : {}),
    vars: tenant.vars,
    idLocation: tenant.idLocation,
    ...(tenant.auth ? { auth: tenant.auth } : {}),
    extraRoots: [inventory.dir],
  };
}

// ---------------------------------------------------------------------------------------------
// Selection (--tenants) and shards (--shard K/N).

/** `*` and `?` globs over ids and names, case-insensitive. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function matches(tenant: InventoryTenant, selector: string): boolean {
  const s = selector.toLowerCase();
  if (/[*?]/.test(selector)) {
    const re = globToRegExp(selector);
    return re.test(tenant.id) || (tenant.name !== undefined && re.test(tenant.name)) || tenant.tags.some((t) => re.test(t));
  }
  return tenant.id === s || tenant.name?.toLowerCase() === s || tenant.tags.some((t) => t.toLowerCase() === s) || tenant.tenantId?.toLowerCase() === s;
}

/**
 * --tenants a,b,c: the tenants any selector matches (by id, tenant id, name, tag or glob), in
 * inventory order. A selector matching nothing is an error (a typo must not silently shrink the fleet).
 */
export function selectTenants(inventory: Inventory, selectors: readonly string[] | undefined): InventoryTenant[] {
  if (!selectors?.length) return inventory.tenants;
  for (const selector of selectors) {
    if (inventory.tenants.some((t) => matches(t, selector))) continue;
    const candidates = [...new Set(inventory.tenants.flatMap((t) => [t.id, ...(t.name ? [t.name] : []), ...t.tags]))];
    const near = closest(selector, candidates);
    throw new InputError(
      `--tenants ${selector}: matches no tenant of this inventory (by id, name, tag or glob)${near ? `; did you mean \`${near}\`?` : ''}`,
      inventory.tenantsLocation,
      'a glob such as "*-eu.onmicrosoft.com" or a tag such as "pilot" selects several tenants',
    );
  }
  return inventory.tenants.filter((t) => selectors.some((s) => matches(t, s)));
}

export interface Shard {
  k: number;
  n: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(k) || !Number.isSafeInteger(n) || n < 1 || n > 10_000 || k < 1) {
    throw new InputError(`--shard ${text}: not a shard`, undefined, 'write K/N with 1 <= K <= N, e.g. --shard 2/4 (the second of four shards)');
  }
  if (k > n) throw new InputError(`--shard ${text}: there is no shard ${k} of ${n}`, undefined, `K runs from 1 to ${n}`);
  return { k, n };
}

/** Which shard (1..n) a tenant belongs to: by a hash of its id, so a rerun (or another inventory order) hits the same shard. */
export function shardOf(tenantId: string, n: number): number {
  const digest = createHash('sha256').update(tenantId.toLowerCase()).digest();
  return (digest.readUInt32BE(0) % n) + 1;
}

export function inShard(tenants: readonly InventoryTenant[], shard: Shard | undefined): InventoryTenant[] {
  return shard ? tenants.filter((t) => shardOf(t.id, shard.n) === shard.k) : [...tenants];
}

/** schemas/inventory.schema.json (scripts/schema.ts writes it; a test fails when the committed copy is stale). */
export function inventoryJsonSchemaText(): string {
  const schema = z.toJSONSchema(inventorySchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return `${JSON.stringify({ $schema, $id: 'inventory.schema.json', title: 'exo-playbook fleet inventory (apiVersion exo-playbook/v1, kind Inventory)', ...rest }, null, 2)}\n`;
}
