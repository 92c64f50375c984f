/** playbook.schema.json and docs/PLAYBOOKS.md are generated; a stale committed copy fails here. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { playbookJsonSchemaText } from '../../src/playbook/json-schema.js';
import { playbookReferenceBody, SHIPPED_PLAYBOOKS_HEADING } from '../../src/playbook/reference-doc.js';

describe('generated files', () => {
  it('playbooks/playbook.schema.json matches the zod schema (run npm run schema)', () => {
    expect(readFileSync('playbooks/playbook.schema.json', 'utf8'), 'stale: run npm run schema').toBe(playbookJsonSchemaText());
  });

  it('docs/PLAYBOOKS.md above "Shipped playbooks" matches the zod schema (run npm run schema)', () => {
    const doc = readFileSync('docs/PLAYBOOKS.md', 'utf8');
    expect(doc).toContain(SHIPPED_PLAYBOOKS_HEADING);
    expect(doc.slice(0, doc.indexOf(SHIPPED_PLAYBOOKS_HEADING)), 'stale: run npm run schema').toBe(playbookReferenceBody());
  });

  it('documents every action and its with fields', () => {
    const doc = readFileSync('docs/PLAYBOOKS.md', 'utf8');
    for (const heading of ['`uses: transport-config`', '`uses: smtp-auth/usage`', '`uses: smtp-auth/allowlist`', '`uses: smtp-auth/verify`', '`uses: powershell`']) {
      expect(doc).toContain(`### ${heading}`);
    }
    expect(doc).toMatch(/\| `days` \| integer 1-90 \| `7` \|/);
  });
});
