/**
 * Loading one side of a diff. A reviewer (or CI) has none of the runner's environment and must not
 * need it: every ${env:NAME} gets a placeholder value that is shown back as `${env:NAME}`, and
 * secret files (tenant.auth token/certificatePassword as ${file:}) are never read. So a diff never
 * needs, reads or prints a secret, and does not change with the environment it runs in.
 */
import path from 'node:path';
import { load } from 'js-yaml';
import { loadPlaybookFromText, type LoadedPlaybook } from '../playbook/load.js';
import type { DiffSide } from './compare.js';
import type { PlaybookVersion } from './types.js';

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface EnvPlaceholders {
  env: NodeJS.ProcessEnv;
  /** Replace placeholders inside any string of a value with `${env:NAME}`. */
  display(value: unknown): unknown;
}

/** Placeholders are shaped like a tenant's .onmicrosoft.com domain so `organization: ${env:ORG}` still validates. */
export function envPlaceholders(text: string): EnvPlaceholders {
  const names = [...new Set([...text.matchAll(ENV_REFERENCE)].map((m) => m[1]!))];
  const byPlaceholder = new Map(names.map((name, i) => [`exo-env-placeholder-${i}.onmicrosoft.com`, name]));
  const env: NodeJS.ProcessEnv = {};
  for (const [placeholder, name] of byPlaceholder) env[name] = placeholder;
  const pattern = /exo-env-placeholder-\d+\.onmicrosoft\.com/g;
  const display = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(pattern, (p) => (byPlaceholder.has(p) ? `\${env:${byPlaceholder.get(p)}}` : p));
    if (Array.isArray(value)) return value.map(display);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, display(v)]));
    return value;
  };
  return { env, display };
}

/** Absolute paths of secret files the playbook names (never read by diff). */
export function secretFiles(text: string, baseDir: string): Set<string> {
  const files = new Set<string>();
  let doc: unknown;
  try {
    doc = load(text);
  } catch {
    return files; // the loader reports the syntax error with its position
  }
  const auth = (doc as { tenant?: { auth?: Record<string, unknown> } } | undefined)?.tenant?.auth;
  for (const key of ['token', 'certificatePassword', 'clientSecret']) {
    const value = auth?.[key];
    const match = typeof value === 'string' ? /^\$\{file:([^}]+)\}$/.exec(value) : null;
    if (match) files.add(path.resolve(baseDir, match[1]!));
  }
  return files;
}

export interface LoadSideInput {
  text: string;
  /** Where the playbook is (as given, or relative to cwd for git): ${file:} references resolve from its folder. */
  file: string;
  version: PlaybookVersion;
  /** Reads an allowlist at this side's revision (from disk: only inside `roots`, see LoadOptions.readFile). */
  readFile: (absolutePath: string, roots: readonly string[]) => Promise<string>;
}

export async function loadSide(input: LoadSideInput): Promise<DiffSide> {
  const { env, display } = envPlaceholders(input.text);
  const baseDir = path.dirname(path.resolve(input.file));
  const secrets = secretFiles(input.text, baseDir);
  const loaded: LoadedPlaybook = await loadPlaybookFromText(input.text, input.file, {
    env,
    readFile: (absolute, roots) => (secrets.has(absolute) ? Promise.resolve('(not read by diff)') : input.readFile(absolute, roots)),
  });
  const playbookDir = path.dirname(input.file);
  // Where each listed address was written: origins covers allowlist steps; locate covers the rest
  // (verify's mailboxes, acceptBreakage), since a ${file:} entry keeps its line in that file.
  const written = new Map<string, string>();
  const note = (list: unknown, at: (string | number)[]) => {
    if (!Array.isArray(list)) return;
    list.forEach((address, i) => {
      const where = loaded.locate([...at, i]);
      if (typeof address === 'string' && where && !written.has(address.toLowerCase())) written.set(address.toLowerCase(), where.file);
    });
  };
  loaded.playbook.steps.forEach((step, i) => note((step.with as { mailboxes?: unknown }).mailboxes, ['steps', i, 'with', 'mailboxes']));
  note(loaded.playbook.acceptBreakage, ['acceptBreakage']);
  const addressSource = (address: string): string | undefined => {
    const file = loaded.origins.get(address)?.[0]?.file ?? written.get(address);
    if (!file || file === input.file) return undefined;
    return path.relative(playbookDir, file).split(path.sep).join('/');
  };
  const { playbook } = loaded;
  return {
    version: { ...input.version, name: playbook.name, ...(playbook.change ? { change: playbook.change } : {}), organization: playbook.tenant.organization },
    playbook,
    addressSource,
    display,
  };
}
