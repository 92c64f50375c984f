/**
 * `npm run schema`: regenerate playbooks/playbook.schema.json and docs/PLAYBOOKS.md (above its
 * "Shipped playbooks" heading) from src/playbook/schema.ts. test/playbook/generated-files.test.ts
 * fails when either committed file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { playbookJsonSchemaText } from '../src/playbook/json-schema.js';
import { playbookReferenceMarkdown } from '../src/playbook/reference-doc.js';
import { inventoryJsonSchemaText } from '../src/fleet/inventory.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const existingDoc = await readFile(root + 'docs/PLAYBOOKS.md', 'utf8').catch(() => undefined);

await writeFile(root + 'playbooks/playbook.schema.json', playbookJsonSchemaText());
console.log('wrote playbooks/playbook.schema.json');
await writeFile(root + 'docs/PLAYBOOKS.md', playbookReferenceMarkdown(existingDoc));
console.log('wrote docs/PLAYBOOKS.md');
await writeFile(root + 'schemas/inventory.schema.json', inventoryJsonSchemaText());
console.log('wrote schemas/inventory.schema.json');
