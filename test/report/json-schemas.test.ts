/**
 * `--format json` documents carry formatVersion and kind, and the JSON Schemas shipped in schemas/
 * describe them: real outputs of plan, apply, rollback, verify and diff validate (ajv, strict mode).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportWorkspace, runCli, type ReportWorkspace } from '../support/report-workspace.js';

const SCHEMAS = resolve(import.meta.dirname, '..', '..', 'schemas');

function compile(): Record<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(ajv);
  for (const file of readdirSync(SCHEMAS)) ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as object);
  const get = (id: string) => ajv.getSchema(id)!;
  return { plan: get('plan.schema.json'), verify: get('verify.schema.json'), apply: get('apply.schema.json'), diff: get('diff.schema.json') };
}

function expectValid(validate: ValidateFunction, document: unknown): void {
  const ok = validate(document);
  expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
  expect(ok).toBe(true);
}

let w: ReportWorkspace;
let validators: Record<string, ValidateFunction>;
beforeAll(async () => {
  validators = compile();
  w = await reportWorkspace(400, 'json-schemas');
});
afterAll(() => w?.cleanup());

async function json(args: string[], expectedCode: number): Promise<Record<string, unknown>> {
  const r = await runCli([...args, '--format', 'json'], w.dir, { ...process.env, EXO_PLAYBOOK_LOCK_DIR: join(w.dir, 'locks') });
  expect(r.code, r.stderr).toBe(expectedCode);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('JSON outputs and their shipped schemas', () => {
  it('plan: formatVersion 1, kind plan, valid', async () => {
    const plan = await json(['plan', 'smtp-auth-disable.yaml', ...w.target], 2);
    expect(plan).toMatchObject({ formatVersion: 1, kind: 'plan' });
    expectValid(validators.plan!, plan);
  });

  it('verify: formatVersion 1, kind verify, valid (drift and compliant alike)', async () => {
    const verify = await json(['verify', 'smtp-auth-disable.yaml', ...w.target], 2);
    expect(verify).toMatchObject({ formatVersion: 1, kind: 'verify', compliant: false });
    expectValid(validators.verify!, verify);
  });

  it('apply and rollback: formatVersion 1, kind apply, valid, the nested plan and verify too', async () => {
    const apply = await json(['apply', 'smtp-auth-disable.yaml', ...w.target, '--yes', '--accept-breakage', 'all', '--runs-dir', 'runs'], 0);
    expect(apply).toMatchObject({ formatVersion: 1, kind: 'apply', interrupted: false });
    expectValid(validators.apply!, apply);
    const verify = await json(['verify', 'smtp-auth-disable.yaml', ...w.target], 0);
    expectValid(validators.verify!, verify);
    const rollback = await json(['rollback', apply.runDir as string, ...w.target, '--yes', '--runs-dir', 'runs'], 0);
    expect(rollback).toMatchObject({ formatVersion: 1, kind: 'apply', plan: { kind: 'rollback' } });
    expectValid(validators.apply!, rollback);
  });

  it('diff: formatVersion 1, kind diff, valid', async () => {
    const changed = readFileSync(join(w.dir, 'smtp-auth-disable.yaml'), 'utf8').replace('change: CHG0042', 'change: CHG0043').replace('exclusive: true', 'exclusive: false');
    writeFileSync(join(w.dir, 'changed.yaml'), changed);
    const diff = await json(['diff', join(w.dir, 'smtp-auth-disable.yaml'), join(w.dir, 'changed.yaml')], 2);
    expect(diff).toMatchObject({ formatVersion: 1, kind: 'diff', changed: true });
    expectValid(validators.diff!, diff);
  });

  it('the schemas reject a document that lost a required field or has a wrong type', async () => {
    const plan = await json(['plan', 'smtp-auth-disable.yaml', ...w.target], 2);
    const broken = { ...plan, summary: { changes: 'many' } };
    expect(validators.plan!(broken)).toBe(false);
    const verify = await json(['verify', 'smtp-auth-disable.yaml', ...w.target], 2);
    const { compliant: _dropped, ...withoutCompliant } = verify;
    expect(validators.verify!(withoutCompliant)).toBe(false);
  });
});
