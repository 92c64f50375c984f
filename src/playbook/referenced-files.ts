/**
 * Files the playbook names that are read or written after loading: every path in PLAYBOOK_PATHS
 * (the usage CSVs, the usage history, the probe's CA file) and the certificate
 * (tenant.auth.certificatePath, read at sign-in). Checked at load so `validate` catches a bad one at
 * its line, and plan/apply/verify stop before connecting: each must resolve inside the playbook's
 * folder or its fileRoots (symlinks followed) and be a regular file under its cap.
 * Also refuses a certificate file and sign-in combination that cannot work.
 */
import path from 'node:path';
import { confinedPath, readConfinedFile } from './confined-file.js';
import { readRegularFile } from '../files/regular-file.js';
import { child, stringAt, type Located, type PathSegment } from './located.js';
import { pathToString, type Problem } from './problems.js';
import { PFX_FILE } from './schema.js';
import { MAX_SOURCE_BYTES, MAX_USAGE_REPORT_BYTES } from './source.js';

const PEM_FILE = /\.(pem|crt|cer|key)$/i;

/**
 * Every `with:` key of a step that names a file, and how it is confined. One table, one check
 * (checkPlaybookPath): a path key added to an action belongs here, and a test (test/playbook/
 * playbook-paths.test.ts) fails when a schema key that names a file is missing.
 */
export const PLAYBOOK_PATHS: readonly PlaybookPath[] = [
  { uses: 'smtp-auth/usage', key: 'report', what: 'the usage report', maxBytes: MAX_USAGE_REPORT_BYTES },
  { uses: 'smtp-auth/usage', key: 'requestReport', what: 'the request report', maxBytes: 64 * 1024 * 1024 },
  // Created by the first verify: a missing file is fine, its folder must be inside the roots.
  { uses: 'smtp-auth/usage', key: 'history', what: 'the usage history', maxBytes: 16 * 1024 * 1024, createdByRun: true },
  { uses: 'smtp-auth/probe', key: 'caFile', what: 'the CA file', maxBytes: MAX_SOURCE_BYTES },
];

export interface PlaybookPath {
  uses: string;
  key: string;
  what: string;
  maxBytes: number;
  /** The run writes it (a missing file is not a problem; the folder must exist inside the roots). */
  createdByRun?: boolean;
}

/**
 * Checks one path a playbook names: inside the roots (after symlinks), a regular file under the cap.
 * Returns why not, or undefined. `missing` is reported apart so the caller decides (a warning without
 * --require-env).
 */
export async function checkPlaybookPath(
  file: string,
  spec: Pick<PlaybookPath, 'maxBytes' | 'createdByRun'>,
  roots: readonly string[],
): Promise<{ reason: string; detail: string } | undefined> {
  const where = await confinedPath(file, roots, { mayBeMissing: spec.createdByRun === true });
  if (!where.ok) return where;
  if (!where.exists) return undefined;
  const checked = await readRegularFile(where.realPath, { maxBytes: spec.maxBytes, follow: false, read: false });
  return checked.ok ? undefined : checked;
}

export interface ReferencedFileOptions {
  baseDir: string;
  fileRoots: readonly string[];
  /** The certificate file must be there too (validate --require-env: this machine signs in). */
  checkSignInFiles: boolean;
  /** 'warn': a missing usage CSV is a warning (validate without --require-env). */
  runFiles: 'require' | 'warn';
}

/** A value still holding a reference was not resolved (an unset sign-in variable under 'warn'). */
const unresolved = (value: string) => value.includes('${');

export async function checkReferencedFiles(root: Located, options: ReferencedFileOptions): Promise<{ problems: Problem[]; warnings: Problem[] }> {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const problem = (node: Located, message: string, at: PathSegment[], hint: string, list = problems) =>
    list.push({ location: node.loc, message, path: pathToString(at), hint });

  const steps = child(root, 'steps');
  if (steps?.kind === 'seq') {
    for (const [index, step] of steps.items.entries()) {
      const uses = stringAt(child(step, 'uses'));
      for (const spec of PLAYBOOK_PATHS.filter((p) => p.uses === uses)) {
        const node = child(child(step, 'with'), spec.key);
        const value = stringAt(node);
        if (!node || value === undefined || unresolved(value)) continue;
        const why = await checkPlaybookPath(path.resolve(options.baseDir, value), spec, options.fileRoots);
        if (!why) continue;
        const missingHere = why.reason === 'missing' && options.runFiles === 'warn';
        problem(
          node,
          `cannot ${spec.createdByRun ? 'use' : 'read'} ${spec.what} ${value}: ${why.detail}${missingHere ? ' (needed by plan and apply)' : ''}`,
          ['steps', index, 'with', spec.key],
          pathHint(spec, why.reason),
          missingHere ? warnings : problems,
        );
      }
    }
  }

  const auth = child(child(root, 'tenant'), 'auth');
  const method = stringAt(child(auth, 'method'));
  if (method !== 'certificate' && method !== 'partner') return { problems, warnings };
  const pathNode = child(auth, 'certificatePath');
  const certificatePath = stringAt(pathNode);
  if (!pathNode || certificatePath === undefined || unresolved(certificatePath)) return { problems, warnings };
  const signInNode = child(auth, 'signIn');
  const signIn = stringAt(signInNode);
  const at: PathSegment[] = ['tenant', 'auth'];
  // The certificate may live outside the playbook's folder (a CI runner's temp dir): no root.
  const read = await readConfinedFile(path.resolve(options.baseDir, certificatePath), { roots: [], maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok && options.checkSignInFiles) {
    problem(pathNode, `cannot read the certificate file ${certificatePath}: ${read.detail}`, [...at, 'certificatePath'], "relative paths start at the playbook's folder; the file must be readable by the account that runs exo-playbook");
  }
  // What the file is: by its content when it can be read here, else by its name.
  const format = read.ok ? (/^\s*-----BEGIN /.test(read.bytes.subarray(0, 64).toString('latin1')) ? 'pem' : 'pfx') : PFX_FILE.test(certificatePath) ? 'pfx' : PEM_FILE.test(certificatePath) ? 'pem' : undefined;
  if (method === 'partner') {
    // A partner's token always comes from @azure/identity, which takes a PEM.
    if (format === 'pfx') {
      problem(
        pathNode,
        `a partner sign-in cannot use ${certificatePath}: it is not a PEM file, and @azure/identity takes a PEM holding the certificate and its private key`,
        [...at, 'certificatePath'],
        'convert it: `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`',
      );
    }
  } else if (signInNode && signIn === 'module' && format === 'pem') {
    problem(
      signInNode,
      `signIn: module cannot sign in with the PEM file ${certificatePath}: Connect-ExchangeOnline -CertificateFilePath needs a .pfx with the private key, and loads a PEM without its key`,
      [...at, 'signIn'],
      'remove `signIn: module` (a PEM signs in with a token from @azure/identity), or point certificatePath at a .pfx (`openssl pkcs12 -export -in cert.pem -out cert.pfx`)',
    );
  } else if (signIn !== 'module' && format === 'pfx' && (signInNode || !PFX_FILE.test(certificatePath))) {
    problem(
      signInNode ?? pathNode,
      `${signInNode ? 'signIn: token' : 'token sign-in (the default for a file not named .pfx/.p12)'} cannot sign in with ${certificatePath}: it is not a PEM file, and @azure/identity takes a PEM holding the certificate and its private key`,
      [...at, signInNode ? 'signIn' : 'certificatePath'],
      'use `signIn: module` for a .pfx (or name it .pfx), or convert it: `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`',
    );
  }
  return { problems, warnings };
}

function pathHint(spec: PlaybookPath, reason: string): string {
  if (reason === 'outside-root') return `${spec.key}: ${spec.createdByRun ? 'is written' : 'reads'} only inside the playbook's folder; ${spec.createdByRun ? 'point it at a file there' : 'copy the file there'}, or name its folder under fileRoots:`;
  if (reason === 'too-large') return `${spec.what} over ${spec.maxBytes / (1024 * 1024)} MiB is refused${spec.key === 'report' ? '; export a shorter period' : ''}`;
  if (reason === 'not-regular') return `${spec.key}: must name a regular file (not a folder, FIFO or device)`;
  if (spec.key === 'report') return "report: is a path relative to the playbook's folder; export Reports > Mail flow > SMTP AUTH clients report as CSV there";
  return `${spec.key}: is a path relative to the playbook's folder`;
}
