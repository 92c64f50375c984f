/**
 * The shipped playbooks are valid, start with the schema modeline, and the disable playbook's
 * usage CSV path errors are located.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isFleetPlaybook } from '../support/fleet-playbooks.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT } from './smtp-auth-support.js';

const shipped = readdirSync(join(ROOT, 'playbooks')).filter((f) => f.endsWith('.yaml'));

describe('shipped playbooks', () => {
  it('are the audit, disable and drift-check playbooks', () => {
    expect(shipped).toEqual(expect.arrayContaining(['smtp-auth-audit.yaml', 'smtp-auth-disable.yaml', 'smtp-auth-drift-check.yaml']));
  });

  it.each(shipped)('%s starts with the schema modeline and validates', async (name) => {
    const text = readFileSync(join(ROOT, 'playbooks', name), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./playbook.schema.json');
    const result = await cli(['validate', join('playbooks', name)]);
    if (isFleetPlaybook(name)) {
      // A fleet playbook reads `${tenant.…}`: alone it is refused at that line (it loads for an
      // inventory's tenant: test/playbook/shipped-playbooks.test.ts, test/e2e/fleet.test.ts).
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stderr).toMatch(/smtp-auth-fleet\.yaml:\d+:\d+: `\$\{tenant\.id\}` is only known in a fleet run/);
    } else {
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
  });
});
