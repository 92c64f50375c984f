/**
 * The fleet's generated and shipped schemas: schemas/inventory.schema.json matches the zod schema (a
 * stale copy fails: run npm run schema) and accepts the inventories the tests and examples use; a real
 * fleet result (plan, apply, verify) validates against schemas/fleet.schema.json with ajv in strict mode.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryJsonSchemaText } from '../../src/fleet/inventory.js';
import { assertBuilt } from '../e2e/engine-support.js';
import { FleetWorkspace } from './fleet-support.js';

const SCHEMAS = resolve(import.meta.dirname, '..', '..', 'schemas');

function validator(id: string) {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  for (const file of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as object);
  return ajv.getSchema(id)!;
}

let w: FleetWorkspace;
beforeAll(() => {
  assertBuilt();
  w = new FleetWorkspace({ tenants: 2 });
});
afterAll(() => w?.cleanup());

describe('fleet schemas', () => {
  it('schemas/inventory.schema.json matches the zod schema (run npm run schema)', () => {
    expect(readFileSync(join(SCHEMAS, 'inventory.schema.json'), 'utf8'), 'stale: run npm run schema').toBe(inventoryJsonSchemaText());
  });

  it('the inventory schema accepts a real inventory and refuses a misspelt key', () => {
    const validate = validator('inventory.schema.json');
    const inventory = load(readFileSync(w.inventory, 'utf8')) as { tenants: Record<string, unknown>[] };
    expect(validate(inventory), JSON.stringify(validate.errors)).toBe(true);
    inventory.tenants[0]!.tag = ['x'];
    expect(validate(inventory)).toBe(false);
  });

  it('fleet plan, apply and verify results validate against schemas/fleet.schema.json', () => {
    const validate = validator('fleet.schema.json');
    for (const [args, code] of [
      [['plan'], 2],
      [['apply', '--yes'], 0],
      [['verify'], 0],
    ] as const) {
      const r = w.run(['fleet', ...args, 'smtp-auth-fleet.yaml', '--inventory', 'inventory.yaml', '--format', 'json']);
      expect(r.code, r.stderr).toBe(code);
      const doc = JSON.parse(r.stdout) as { kind: string; tenants: unknown[] };
      expect(doc.kind).toBe('fleet');
      expect(doc.tenants).toHaveLength(2);
      expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
    }
  });
});
