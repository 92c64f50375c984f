/** Every playbook we ship loads cleanly (given the environment variables it names). */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/playbook/load.js';
import { isFleetPlaybook } from '../support/fleet-playbooks.js';

// Fleet playbooks load only in a fleet run: checked below with a tenant.
const shipped = readdirSync('playbooks').filter((f) => f.endsWith('.yaml') && !isFleetPlaybook(f)).sort();

/** A placeholder for every ${env:NAME} a playbook mentions. */
export function placeholderEnv(files: string[]): Record<string, string> {
  const names = files.flatMap((file) => [...readFileSync(file, 'utf8').matchAll(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!));
  return Object.fromEntries(names.map((name) => [name, `placeholder-${name.toLowerCase()}`]));
}

describe('shipped playbooks', () => {
  it('includes smtp-auth-disable.yaml', () => {
    expect(shipped).toContain('smtp-auth-disable.yaml');
  });

  it.each(shipped)('playbooks/%s is valid', async (file) => {
    const full = path.resolve('playbooks', file);
    // The usage CSV is exported on the machine that runs; its absence here is a warning only.
    const loaded = await loadPlaybook(full, { env: placeholderEnv([full]), runFiles: 'warn' });
    expect(loaded.playbook.apiVersion).toBe('exo-playbook/v1');
    expect(loaded.playbook.steps.length).toBeGreaterThan(0);
  });

  it('playbooks/smtp-auth-fleet.yaml loads for a fleet tenant, and alone is refused at its ${tenant.…} line', async () => {
    const full = path.resolve('playbooks', 'smtp-auth-fleet.yaml');
    expect(isFleetPlaybook(full)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'exo-shipped-fleet-'));
    try {
      writeFileSync(path.join(dir, 'allow.txt'), 'device@contoso.com\n');
      const tenant = { id: 'contoso.onmicrosoft.com', vars: { allowlist: path.join(dir, 'allow.txt'), usageReport: 'usage.csv' }, idLocation: { file: 'inventory.yaml', line: 5, col: 9 }, extraRoots: [dir] };
      const loaded = await loadPlaybook(full, { env: placeholderEnv([full]), runFiles: 'warn', tenant });
      expect(loaded.playbook.tenant.organization).toBe('contoso.onmicrosoft.com');
      expect(loaded.playbook.steps.find((s) => s.id === 'allow')?.with).toMatchObject({ mailboxes: ['device@contoso.com'] });
      await expect(loadPlaybook(full, { env: placeholderEnv([full]), runFiles: 'warn' })).rejects.toThrow(/smtp-auth-fleet\.yaml:\d+:\d+: `\$\{tenant\.id\}` is only known in a fleet run/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
