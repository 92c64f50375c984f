/** Every playbook we ship loads cleanly (given the environment variables it names). */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPlaybook } from '../../src/playbook/load.js';

const shipped = readdirSync('playbooks').filter((f) => f.endsWith('.yaml')).sort();

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
});
