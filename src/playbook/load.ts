/**
 * Playbook file → LoadedPlaybook: read (size cap, strict UTF-8), parse with positions, resolve
 * ${...} references, check against the schema and the semantic rules, and report every problem
 * of the file at once (PlaybookInvalid), each at its file:line:col.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { SourceLocation } from '../errors.js';
import { playbookSchema, type Playbook } from './schema.js';
import { locateIn, toPlain, type Located, type PathSegment } from './located.js';
import { PlaybookInvalid, orderProblems, type Problem } from './problems.js';
import { Resolver } from './resolve.js';
import { schemaProblems } from './schema-problems.js';
import { checkSemantics } from './semantics.js';
import { checkTextSize, decodeSource, MAX_SOURCE_BYTES } from './source.js';
import { readConfinedTextOrThrow } from './confined-file.js';
import { checkReferencedFiles } from './referenced-files.js';
import { parseYamlTree } from './yaml-tree.js';
import { readRegularFile } from '../files/regular-file.js';
import { tenantFingerprint, withTenant, type TenantContext } from './tenant-context.js';

export { PlaybookInvalid, type Problem } from './problems.js';
export { resolveSecret } from './resolve.js';

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Reads ${file:} targets (diff reads them at a git revision). Default: the file system, confined
   * to `roots` (the playbook's folder and its fileRoots), which a file system reader must honour.
   */
  readFile?: (absolutePath: string, roots: readonly string[]) => Promise<string>;
  /**
   * 'require' (default): a missing environment variable under tenant.auth is an error, as it must
   * be before signing in to a real tenant. 'warn': it becomes a warning and the reference text is
   * kept (validate without --require-env, --target sim:, diff, explain without a tenant).
   */
  signInEnv?: 'require' | 'warn';
  /** Also check that the sign-in certificate file exists and is readable (validate --require-env). */
  checkSignInFiles?: boolean;
  /**
   * A missing usage CSV (smtp-auth/usage report:) is an error ('require', default: plan, apply,
   * verify), or a warning ('warn': validate without --require-env, since the CSV is exported on the
   * machine that runs). A file that is there but unsafe (outside the roots, a FIFO, too large) is
   * always an error.
   */
  runFiles?: 'require' | 'warn';
  /**
   * A fleet run's tenant (src/fleet): `${tenant.…}` references resolve, tenant.organization and
   * tenant.auth come from the inventory, its folder joins fileRoots (tenant-context.ts).
   */
  tenant?: TenantContext;
}

export interface LoadedPlaybook {
  /** Absolute path of the playbook. */
  file: string;
  baseDir: string;
  /** Resolved, schema-parsed, defaults applied. Secrets stay as their ${...} reference. */
  playbook: Playbook;
  /** sha256 hex over the playbook text and each referenced allowlist file's path and text. */
  hash: string;
  /** Absolute paths of the allowlist files the playbook references (not secret files). */
  referencedFiles: string[];
  /** Absolute folders files may be read from: the playbook's folder, then its fileRoots. */
  fileRoots: string[];
  /** Where the value at `path` was written (or its nearest written ancestor). */
  locate(path: (string | number)[]): SourceLocation | undefined;
  /** Lower-cased address in an smtp-auth/allowlist step → each place it was written. */
  origins: Map<string, SourceLocation[]>;
  /** Problems that do not make the playbook invalid (signInEnv 'warn'). */
  warnings: Problem[];
}

export async function loadPlaybook(file: string, options: LoadOptions = {}): Promise<LoadedPlaybook> {
  // Opened once, O_NONBLOCK, checked to be a regular file under the cap: a FIFO, /dev/zero or a link
  // to it is refused at once (a link to a regular playbook is followed).
  const read = await readRegularFile(file, { maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) {
    const message = read.reason === 'missing' ? 'no such playbook file' : `cannot read the playbook: ${read.detail}`;
    throw new PlaybookInvalid([{ location: { file, line: 1, col: 1 }, message, path: '', hint: sourceHint(read.reason) }]);
  }
  const bytes = read.bytes;
  const decoded = decodeSource(bytes);
  if (!decoded.ok) throw new PlaybookInvalid([{ location: { file, line: 1, col: 1 }, message: `cannot read the playbook: ${decoded.detail}`, path: '', hint: sourceHint(decoded.reason) }]);
  return loadPlaybookFromText(decoded.text, file, options);
}

export async function loadPlaybookFromText(text: string, file: string, options: LoadOptions = {}): Promise<LoadedPlaybook> {
  const sized = checkTextSize(text);
  if (!sized.ok) throw new PlaybookInvalid([{ location: { file, line: 1, col: 1 }, message: `cannot read the playbook: ${sized.detail}`, path: '' }]);
  const absolute = path.resolve(file);
  const baseDir = path.dirname(absolute);
  const tree = parseYamlTree(text.replace(/^\uFEFF/, ''), file);
  if (!tree.root || tree.problems.some((p) => p.message.startsWith('YAML syntax error'))) throw new PlaybookInvalid(orderProblems(tree.problems));
  if (options.tenant) tree.root = withTenant(tree.root, options.tenant);

  const problems: Problem[] = [...tree.problems, ...fileRootsProblems(tree.root)];
  const warnings: Problem[] = [];
  const referenced = new Map<string, string>();
  const fileRoots = [baseDir, ...declaredRoots(tree.root, baseDir), ...(options.tenant?.extraRoots ?? [])];
  const resolver = new Resolver(tree.root, {
    displayFile: file,
    baseDir,
    env: options.env ?? process.env,
    readFile: options.readFile ? (absolute) => options.readFile!(absolute, fileRoots) : confinedReader(fileRoots),
    problems,
    signInEnv: options.signInEnv ?? 'require',
    warnings,
    referencedFiles: referenced,
    ...(options.tenant ? { tenant: options.tenant } : {}),
  });
  const resolved = await resolver.resolveRoot();
  if (resolved.kind !== 'map') {
    problems.push({ location: resolved.loc, message: 'a playbook is a mapping of keys (apiVersion, name, tenant, steps, ...)', path: '' });
    throw new PlaybookInvalid(orderProblems(problems));
  }
  const parsed = playbookSchema.safeParse(toPlain(resolved));
  if (!parsed.success) {
    // A value whose reference failed was left out; the schema's "missing" about it would be noise.
    const unresolved = problems.map((p) => p.path).filter(Boolean);
    const covered = (at: string) => unresolved.some((u) => at === u || at.startsWith(`${u}.`));
    problems.push(...schemaProblems(resolved, parsed.error.issues).filter((p) => !covered(p.path)));
  }
  const semantics = checkSemantics(resolved);
  problems.push(...semantics.problems);
  // Files read later (the usage CSV at observe, the certificate at sign-in) are checked now, so
  // validate catches a missing one; not when the files come from a git revision (diff).
  if (!options.readFile) {
    const checked = await checkReferencedFiles(resolved, { baseDir, fileRoots, checkSignInFiles: options.checkSignInFiles ?? false, runFiles: options.runFiles ?? 'require' });
    problems.push(...checked.problems);
    warnings.push(...checked.warnings);
  }
  if (problems.length > 0 || !parsed.success) throw new PlaybookInvalid(orderProblems(problems));

  const referencedFiles = [...referenced.keys()].sort();
  return {
    file: absolute,
    baseDir,
    playbook: parsed.data,
    hash: playbookHash(options.tenant ? `${text}\0${tenantFingerprint(options.tenant)}` : text, baseDir, referencedFiles.map((f) => [f, referenced.get(f)!])),
    referencedFiles,
    fileRoots,
    locate: (at: PathSegment[]) => locateIn(resolved as Located, at),
    origins: semantics.origins,
    warnings: orderProblems(warnings),
  };
}

function playbookHash(text: string, baseDir: string, files: [string, string][]): string {
  const hash = createHash('sha256').update(text);
  // Paths relative to the playbook, so the same checkout hashes the same on any machine.
  for (const [file, content] of files) hash.update(`\0${path.relative(baseDir, file).split(path.sep).join('/')}\0`).update(content);
  return hash.digest('hex');
}

function sourceHint(reason: string): string | undefined {
  if (reason === 'not-utf8') return 'save the file as UTF-8';
  if (reason === 'too-large') return 'a playbook or allowlist over 1 MiB is refused; split the allowlist';
  return undefined;
}

/**
 * fileRoots take literal paths only, checked on the text as written: the schema sees values after
 * ${env:}/${vars.} are resolved, so a reference there (`fileRoots: ["${env:HOME}"]`) would pass it.
 */
function fileRootsProblems(root: Located): Problem[] {
  const entry = root.kind === 'map' ? root.entries.get('fileRoots')?.value : undefined;
  if (!entry) return [];
  const problem = (node: Located, message: string, at: string): Problem => ({
    location: node.loc,
    message,
    path: at,
    hint: 'write each folder as a plain path, relative to the playbook\'s folder or absolute',
  });
  if (entry.kind !== 'seq') {
    const written = entry.kind === 'scalar' && typeof entry.value === 'string' && entry.value.includes('${');
    return written ? [problem(entry, 'fileRoots must be a list of plain folder paths (no ${...} references)', 'fileRoots')] : [];
  }
  return entry.items.flatMap((item, index) =>
    item.kind === 'scalar' && typeof item.value === 'string' && item.value.includes('${')
      ? [problem(item, 'must be a plain folder path (no ${...} references)', `fileRoots.${index}`)]
      : [],
  );
}

/** fileRoots as written (plain strings, relative to the playbook's folder); the schema checks their shape. */
function declaredRoots(root: Located, baseDir: string): string[] {
  const list = root.kind === 'map' ? root.entries.get('fileRoots')?.value : undefined;
  if (list?.kind !== 'seq') return [];
  return list.items.flatMap((item) => (item.kind === 'scalar' && typeof item.value === 'string' && !item.value.includes('${') ? [path.resolve(baseDir, item.value)] : []));
}

/** The default reader of ${file:} targets: inside the roots, regular files only, size-capped. */
function confinedReader(roots: readonly string[]): (absolutePath: string) => Promise<string> {
  return (absolutePath) => readConfinedTextOrThrow(absolutePath, { roots, maxBytes: MAX_SOURCE_BYTES });
}
