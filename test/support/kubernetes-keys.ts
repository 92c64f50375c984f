/**
 * The keys a Kubernetes object may have, read from the kubernetes-models package's type declarations
 * (generated from the Kubernetes OpenAPI spec, like its validators). Its validators check types,
 * enums and required fields but, as the OpenAPI spec sets no additionalProperties, not unknown keys,
 * which the API server's strict field validation refuses: this walks a manifest and names every key
 * its type does not declare (a misspelt `volumeMount` included).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', 'node_modules');

interface Declared {
  /** Property → its type text (`IIoK8s…`, `Array<IIoK8s…>`, `string`, a map literal …). */
  props: Map<string, string>;
  /** Imported name → the .d.ts file it comes from. */
  imports: Map<string, string>;
}

const cache = new Map<string, Declared>();

function declared(file: string): Declared {
  const hit = cache.get(file);
  if (hit) return hit;
  const text = readFileSync(file, 'utf8');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import (?:type )?\{ ([^}]+) \} from "([^"]+)";$/gm)) {
    const from = m[2]!.startsWith('.') ? join(dirname(file), m[2]!.replace(/\.js$/, '')) : join(ROOT, m[2]!);
    for (const name of m[1]!.split(',').map((s) => s.trim())) imports.set(name, `${from}.d.ts`);
  }
  const block = /^export interface \w+(?: extends ([\w, ]+))? \{\n([\s\S]*?)^\}/m.exec(text);
  const props = new Map<string, string>();
  if (block?.[1]?.includes('TypeMeta')) for (const key of ['apiVersion', 'kind']) props.set(key, 'string');
  for (const m of (block?.[2] ?? '').matchAll(/^ {4}"([^"]+)"\??: ([^;]+|\{[\s\S]*?\n {4}\});$/gm)) props.set(m[1]!, m[2]!);
  const result = { props, imports };
  cache.set(file, result);
  return result;
}

/** Every key of `value` (at `at`) that its type in `file` does not declare, recursively. */
export function unknownKeys(value: unknown, file: string, at = ''): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const type = declared(file);
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const where = at ? `${at}.${key}` : key;
    const text = type.props.get(key);
    if (text === undefined) {
      problems.push(where);
      continue;
    }
    const ref = /^(?:Array<)?(I\w+)>?$/.exec(text.trim())?.[1];
    const target = ref ? type.imports.get(ref) : undefined;
    if (!target || !existsSync(target)) continue;
    if (Array.isArray(child)) child.forEach((item, i) => problems.push(...unknownKeys(item, target, `${where}[${i}]`)));
    else problems.push(...unknownKeys(child, target, where));
  }
  return problems;
}

export const KUBERNETES_TYPES = {
  Job: join(ROOT, 'kubernetes-models', 'batch', 'v1', 'Job.d.ts'),
  PersistentVolumeClaim: join(ROOT, 'kubernetes-models', 'v1', 'PersistentVolumeClaim.d.ts'),
} as const;
