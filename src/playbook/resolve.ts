/**
 * ${...} references: `${env:NAME}`, `${vars.name}`, `${file:relative/path}` (an allowlist file,
 * relative to the playbook's folder, which becomes a list of addresses).
 *
 * A reference that is a whole scalar takes the referenced value's type (a list stays a list, and a
 * list inside a list is spliced in); inside a longer string it interpolates, and lists are refused
 * there. Secrets (tenant.auth.certificatePassword / token) must be one ${env:}/${file:} reference
 * and stay unresolved until sign-in (resolveSecret): they never enter plans, journals or hashes.
 */
import path from 'node:path';
import { InputError, type SourceLocation } from '../errors.js';
import { SECRET_REFERENCE_PATTERN } from './schema.js';
import { parseAllowlist } from './allowlist-file.js';
import type { Located, LocatedMapping, LocatedScalar, LocatedSequence, PathSegment } from './located.js';
import { pathToString, type Problem } from './problems.js';
import { checkTextSize, MAX_SOURCE_BYTES } from './source.js';
import { readConfinedText } from './confined-file.js';
import { didYouMean } from './suggest.js';
import { substituteTenant, type TenantContext } from './tenant-context.js';

/** Paths whose value is a secret reference, never resolved at load ('*': any step). */
export const SECRET_PATHS = [
  ['tenant', 'auth', 'certificatePassword'],
  ['tenant', 'auth', 'token'],
  ['tenant', 'auth', 'graphToken'],
  ['tenant', 'auth', 'clientSecret'],
  // smtp-auth/probe: the canary's password or token, read only at the moment of AUTH.
  ['steps', '*', 'with', 'password'],
  ['steps', '*', 'with', 'token'],
  // smtp-auth/oauth-senders: an app's client secret or key password, read only when the proof runs.
  ['steps', '*', 'with', 'applications', '*', 'credential', 'clientSecret'],
  ['steps', '*', 'with', 'applications', '*', 'credential', 'certificatePassword'],
] as const;

export interface ResolveContext {
  /** The playbook as the user named it (used in messages). */
  displayFile: string;
  /** Absolute folder of the playbook; ${file:} paths are relative to it. */
  baseDir: string;
  env: NodeJS.ProcessEnv;
  readFile: (absolutePath: string) => Promise<string>;
  problems: Problem[];
  /** Absolute path → text of every allowlist file read (for the playbook hash). */
  referencedFiles: Map<string, string>;
  /**
   * What a missing environment variable under tenant.auth is: an error ('require', when the run
   * will sign in for real) or a warning that leaves the reference text in place ('warn': validate,
   * simulated targets, diff), so a clean checkout can validate and demo without credentials.
   */
  signInEnv: 'require' | 'warn';
  warnings: Problem[];
  /** A fleet run's tenant: `${tenant.…}` references resolve from it (tenant-context.ts); absent, they are errors. */
  tenant?: TenantContext;
}

type Reference = { kind: 'env'; name: string } | { kind: 'vars'; name: string } | { kind: 'file'; path: string };
interface ReferenceMatch {
  start: number;
  end: number;
  reference: Reference;
}

const REFERENCE_HINT = 'references are ${env:NAME}, ${vars.name} or ${file:relative/path}';

export class Resolver {
  private readonly varNodes: Map<string, Located>;
  private readonly resolvedVars = new Map<string, Located | undefined>();
  private readonly varsInProgress: string[] = [];
  private readonly fileCache = new Map<string, Promise<LocatedSequence | undefined>>();

  constructor(
    private readonly root: Located,
    private readonly ctx: ResolveContext,
  ) {
    const vars = root.kind === 'map' ? root.entries.get('vars')?.value : undefined;
    this.varNodes = new Map(vars?.kind === 'map' ? [...vars.entries].map(([name, entry]) => [name, entry.value]) : []);
  }

  async resolveRoot(): Promise<Located> {
    if (this.root.kind !== 'map') return this.root;
    const entries: LocatedMapping['entries'] = new Map();
    for (const [key, entry] of this.root.entries) {
      if (key === 'vars' && entry.value.kind === 'map') {
        const vars: LocatedMapping = { kind: 'map', loc: entry.value.loc, entries: new Map() };
        for (const [name, varEntry] of entry.value.entries) {
          const value = await this.resolveVar(name, varEntry.value.loc);
          if (value) vars.entries.set(name, { keyLoc: varEntry.keyLoc, value });
        }
        entries.set(key, { keyLoc: entry.keyLoc, value: vars });
        continue;
      }
      const value = await this.resolve(entry.value, [key]);
      if (value) entries.set(key, { keyLoc: entry.keyLoc, value });
    }
    return { kind: 'map', loc: this.root.loc, entries };
  }

  private problem(location: SourceLocation, message: string, at: readonly PathSegment[], hint?: string): undefined {
    this.ctx.problems.push({ location, message, path: pathToString(at), ...(hint ? { hint } : {}) });
    return undefined;
  }

  private warn(location: SourceLocation, message: string, at: readonly PathSegment[], hint?: string): void {
    this.ctx.warnings.push({ location, message, path: pathToString(at), ...(hint ? { hint } : {}) });
  }

  /** A missing sign-in variable is only a warning when this load will not sign in. */
  private deferSignIn(at: readonly PathSegment[]): boolean {
    return this.ctx.signInEnv === 'warn' && ((at[0] === 'tenant' && at[1] === 'auth') || isSecretPath(at));
  }

  private async resolve(node: Located, at: PathSegment[]): Promise<Located | undefined> {
    if (isSecretPath(at)) {
      await this.checkSecret(node, at);
      return node;
    }
    switch (node.kind) {
      case 'scalar': {
        if (typeof node.value !== 'string' || !node.value.includes('${')) return node;
        // `${tenant.…}` first: it may sit inside another reference (`${file:${tenant.vars.allowlist}}`).
        const tenant = substituteTenant(node.value, this.ctx.tenant);
        if (!tenant.ok) return this.problem(this.columnAt(node, tenant.index), tenant.message, at, tenant.hint);
        if (!tenant.changed) return this.resolveString(node, node.value, at);
        const substituted: LocatedScalar = { kind: 'scalar', loc: node.loc, value: tenant.value, verbatim: false };
        return typeof tenant.value === 'string' && tenant.value.includes('${') ? this.resolveString(substituted, tenant.value, at) : substituted;
      }
      case 'seq': {
        const items: Located[] = [];
        for (const [index, item] of node.items.entries()) {
          const value = await this.resolve(item, [...at, index]);
          if (!value) continue;
          // A whole-value reference to a list, inside a list, contributes its items.
          if (value.kind === 'seq' && item.kind === 'scalar') items.push(...value.items);
          else items.push(value);
        }
        return { kind: 'seq', loc: node.loc, items };
      }
      case 'map': {
        const entries: LocatedMapping['entries'] = new Map();
        for (const [key, entry] of node.entries) {
          const value = await this.resolve(entry.value, [...at, key]);
          if (value) entries.set(key, { keyLoc: entry.keyLoc, value });
        }
        return { kind: 'map', loc: node.loc, entries };
      }
    }
  }

  private async resolveString(node: LocatedScalar, text: string, at: PathSegment[]): Promise<Located | undefined> {
    const matches = this.findReferences(node, text, at);
    if (!matches) return undefined;
    if (matches.length === 1 && matches[0]!.start === 0 && matches[0]!.end === text.length) {
      return this.dereference(matches[0]!.reference, this.columnAt(node, 0), at);
    }
    let result = '';
    let last = 0;
    for (const match of matches) {
      result += text.slice(last, match.start);
      last = match.end;
      const loc = this.columnAt(node, match.start);
      const value = await this.dereference(match.reference, loc, at);
      if (!value) return undefined;
      if (value.kind !== 'scalar') {
        return this.problem(loc, `${describe(match.reference)} is a list and cannot be part of a longer string`, at, 'use the reference as the whole value');
      }
      result += String(value.value ?? '');
    }
    result += text.slice(last);
    return { kind: 'scalar', loc: node.loc, value: result, verbatim: false };
  }

  /** Where a character of a scalar sits: exact for plain scalars, else the scalar's start. */
  private columnAt(node: LocatedScalar, index: number): SourceLocation {
    return node.verbatim ? { ...node.loc, col: node.loc.col + index } : node.loc;
  }

  private findReferences(node: LocatedScalar, text: string, at: PathSegment[]): ReferenceMatch[] | undefined {
    const matches: ReferenceMatch[] = [];
    let failed = false;
    for (let start = text.indexOf('${'); start >= 0; start = text.indexOf('${', start + 2)) {
      const close = text.indexOf('}', start);
      if (close < 0) {
        this.problem(this.columnAt(node, start), 'unterminated reference: `${` without `}`', at, REFERENCE_HINT);
        return undefined;
      }
      const inner = text.slice(start + 2, close);
      const reference = parseReference(inner);
      if (!reference) {
        this.problem(this.columnAt(node, start), `unknown reference \`\${${inner}}\``, at, REFERENCE_HINT);
        failed = true;
      } else {
        matches.push({ start, end: close + 1, reference });
      }
      start = close - 1;
    }
    return failed ? undefined : matches;
  }

  private async dereference(reference: Reference, loc: SourceLocation, at: PathSegment[]): Promise<Located | undefined> {
    switch (reference.kind) {
      case 'env': {
        const value = this.ctx.env[reference.name];
        if (value === undefined && this.deferSignIn(at)) {
          this.warn(loc, `environment variable ${reference.name} is not set (needed to sign in with --target exchange)`, at, `export ${reference.name} on the machine that runs against the tenant`);
          return { kind: 'scalar', loc, value: describe(reference), verbatim: false };
        }
        if (value === undefined) {
          return this.problem(loc, `environment variable ${reference.name} is not set`, at, `export ${reference.name} before running`);
        }
        return { kind: 'scalar', loc, value, verbatim: false };
      }
      case 'vars':
        if (!this.varNodes.has(reference.name)) {
          const names = [...this.varNodes.keys()];
          return this.problem(
            loc,
            `undefined variable \`vars.${reference.name}\`${didYouMean(reference.name, names).replace('`', '`vars.')}`,
            at,
            names.length ? `defined vars: ${names.join(', ')}` : 'define it under vars:',
          );
        }
        return this.resolveVar(reference.name, loc);
      case 'file':
        return this.readAllowlist(reference.path, loc, at);
    }
  }

  private async resolveVar(name: string, loc: SourceLocation): Promise<Located | undefined> {
    if (this.resolvedVars.has(name)) return this.resolvedVars.get(name);
    const cycleStart = this.varsInProgress.indexOf(name);
    if (cycleStart >= 0) {
      const cycle = [...this.varsInProgress.slice(cycleStart), name].map((v) => `vars.${v}`).join(' → ');
      return this.problem(loc, `reference cycle: ${cycle}`, ['vars', name], 'a variable cannot refer to itself, directly or through others');
    }
    this.varsInProgress.push(name);
    const value = await this.resolve(this.varNodes.get(name)!, ['vars', name]);
    this.varsInProgress.pop();
    this.resolvedVars.set(name, value);
    return value;
  }

  private readAllowlist(relative: string, loc: SourceLocation, at: PathSegment[]): Promise<LocatedSequence | undefined> {
    const absolute = path.resolve(this.ctx.baseDir, relative);
    let cached = this.fileCache.get(absolute);
    if (!cached) {
      cached = this.loadAllowlist(relative, absolute, loc, at);
      this.fileCache.set(absolute, cached);
    }
    return cached;
  }

  private async loadAllowlist(relative: string, absolute: string, loc: SourceLocation, at: PathSegment[]): Promise<LocatedSequence | undefined> {
    const displayFile = path.isAbsolute(relative) ? relative : path.join(path.dirname(this.ctx.displayFile), relative);
    const text = await readReferencedFile(this.ctx.readFile, absolute);
    if (!text.ok) return this.problem(loc, `cannot read ${relative}: ${text.detail}`, at, fileHint(text.code, this.ctx.baseDir));
    this.ctx.referencedFiles.set(absolute, text.text);
    return { kind: 'seq', loc, items: parseAllowlist(text.text, displayFile) };
  }

  private async checkSecret(node: Located, at: PathSegment[]): Promise<void> {
    const reference = node.kind === 'scalar' && typeof node.value === 'string' && SECRET_REFERENCE_PATTERN.test(node.value) ? parseReference(node.value.slice(2, -1)) : undefined;
    if (!reference) {
      this.problem(node.loc, 'secrets are never written inline; use ${env:NAME}', at, 'or ${file:path} to a file only the runner can read');
      return;
    }
    if (reference.kind === 'env' && !this.ctx.env[reference.name] && this.deferSignIn(at)) {
      const neededFor = at[0] === 'steps' ? 'needed to probe SMTP with --target exchange' : 'needed to sign in with --target exchange';
      this.warn(node.loc, `secret environment variable ${reference.name} is not set (${neededFor})`, at, `export ${reference.name} on the machine that runs against the tenant`);
    } else if (reference.kind === 'env' && !this.ctx.env[reference.name]) {
      this.problem(node.loc, `secret environment variable ${reference.name} is not set`, at, `export ${reference.name} (a missing secret is caught before anything connects)`);
    }
    if (reference.kind === 'file') {
      const result = await readReferencedFile(this.ctx.readFile, path.resolve(this.ctx.baseDir, reference.path));
      if (!result.ok) this.problem(node.loc, `cannot read secret file ${reference.path}: ${result.detail}`, at, fileHint(result.code, this.ctx.baseDir));
    }
  }
}

function isSecretPath(at: readonly PathSegment[]): boolean {
  return SECRET_PATHS.some((secret) => secret.length === at.length && secret.every((segment, i) => segment === '*' || segment === at[i]));
}

function parseReference(inner: string): Reference | undefined {
  let match = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner);
  if (match) return { kind: 'env', name: match[1]! };
  match = /^vars\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner);
  if (match) return { kind: 'vars', name: match[1]! };
  match = /^file:(.+)$/.exec(inner);
  if (match) return { kind: 'file', path: match[1]!.trim() };
  return undefined;
}

function describe(reference: Reference): string {
  return reference.kind === 'file' ? `\${file:${reference.path}}` : reference.kind === 'env' ? `\${env:${reference.name}}` : `\${vars.${reference.name}}`;
}

async function readReferencedFile(
  read: (absolutePath: string) => Promise<string>,
  absolute: string,
): Promise<{ ok: true; text: string } | { ok: false; detail: string; code: string | undefined }> {
  try {
    const text = await read(absolute);
    const sized = checkTextSize(text);
    return sized.ok ? { ok: true, text } : { ok: false, detail: sized.detail, code: 'too-large' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, detail: code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : (error as Error).message, code };
  }
}

/** What to do about a ${file:} target that could not be read (confined-file.ts reasons or errno codes). */
function fileHint(code: string | undefined, baseDir: string): string {
  if (code === 'outside-root') return `\${file:} reads only inside the playbook's folder (${baseDir}); copy the file there, or name its folder under fileRoots:`;
  if (code === 'not-regular') return '${file:} reads regular files only (not a folder, FIFO or device)';
  if (code === 'too-large') return 'a referenced file over 1 MiB is refused; split it';
  return `\${file:...} paths are relative to the playbook's folder (${baseDir})`;
}

/**
 * The secret a reference names, read only when signing in. Throws InputError (without echoing
 * any secret) when the variable is unset or the file is unreadable.
 */
export async function resolveSecret(reference: string, env: NodeJS.ProcessEnv, baseDir: string): Promise<string> {
  const parsed = SECRET_REFERENCE_PATTERN.test(reference) ? parseReference(reference.slice(2, -1)) : undefined;
  if (!parsed || parsed.kind === 'vars') throw new InputError('secrets are never written inline; use ${env:NAME}');
  if (parsed.kind === 'env') {
    const value = env[parsed.name];
    if (!value) throw new InputError(`secret environment variable ${parsed.name} is not set`, undefined, `export ${parsed.name}`);
    return value;
  }
  // The loader already checked the file is inside the playbook's roots; here it must still be a
  // regular file of sane size (a secret file swapped for /dev/zero must not fill memory).
  const read = await readConfinedText(path.resolve(baseDir, parsed.path), { roots: [], maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) throw new InputError(`cannot read secret file ${parsed.path}: ${read.detail}`);
  return read.text.replace(/\r?\n$/, '');
}
