/**
 * playbooks/playbook.schema.json, generated from the zod schema (scripts/schema.ts writes it; a
 * test fails when the committed file is stale). The zod schema describes resolved values, so every
 * leaf here also accepts a string holding a ${env:X} / ${vars.x} / ${file:path} reference:
 * editors then validate playbooks as written.
 */
import { z } from 'zod';
import { playbookSchema, REFERENCE_PATTERN } from './schema.js';

type JsonSchema = { [key: string]: unknown };

const REFERENCE_STRING: JsonSchema = {
  type: 'string',
  pattern: REFERENCE_PATTERN.source,
  description: 'A ${env:NAME}, ${vars.name} or ${file:path} reference, resolved when the playbook is loaded.',
};

/** Keys whose value is a map of subschemas. */
const SCHEMA_MAPS = ['properties', 'definitions', '$defs'] as const;
/** Keys whose value is a list of subschemas. */
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf'] as const;

export function playbookJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(playbookSchema, { target: 'draft-7', io: 'input' }) as JsonSchema;
  const root = acceptReferences(schema, true);
  return {
    $schema: root.$schema,
    $id: 'https://exo-playbook.invalid/playbook.schema.json',
    title: 'exo-playbook playbook (apiVersion exo-playbook/v1)',
    ...Object.fromEntries(Object.entries(root).filter(([key]) => key !== '$schema' && key !== 'definitions')),
    definitions: { ...((root.definitions as object | undefined) ?? {}), reference: REFERENCE_STRING },
  };
}

export function playbookJsonSchemaText(): string {
  return JSON.stringify(playbookJsonSchema(), null, 2) + '\n';
}

function acceptReferences(node: JsonSchema, isRoot = false): JsonSchema {
  const out: JsonSchema = { ...node };
  for (const key of SCHEMA_MAPS) {
    const map = node[key] as Record<string, JsonSchema> | undefined;
    if (map) out[key] = Object.fromEntries(Object.entries(map).map(([name, child]) => [name, acceptReferences(child)]));
  }
  for (const key of SCHEMA_LISTS) {
    const list = node[key] as JsonSchema[] | undefined;
    if (list) out[key] = list.map((child) => acceptReferences(child));
  }
  if (node.items && typeof node.items === 'object') out.items = acceptReferences(node.items as JsonSchema);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') {
    out.additionalProperties = acceptReferences(node.additionalProperties as JsonSchema);
  }
  const isLeaf = !isRoot && node.type !== 'object' && !node.properties && !node.$ref && !SCHEMA_LISTS.some((k) => node[k]);
  // Discriminators (`uses`, `method`, `apiVersion`) pick the shape; a reference there would hide it.
  // A plain string already accepts a reference; only constrained leaves need the alternative.
  const acceptsAnyString = node.type === 'string' && !node.pattern && !node.enum && !node.format;
  if (!isLeaf || 'const' in node || acceptsAnyString) return out;
  const { description, default: defaultValue, ...rest } = out;
  return {
    ...(description !== undefined ? { description } : {}),
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    anyOf: [rest, { $ref: '#/definitions/reference' }],
  };
}
