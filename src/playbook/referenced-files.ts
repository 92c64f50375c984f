/**
 * Files the playbook names that are read after loading: the usage CSV (smtp-auth/usage report:,
 * read at observe) and the certificate (tenant.auth.certificatePath, read at sign-in). Checked at
 * load so `validate` catches a missing one at its line, and plan/apply stop before connecting.
 * Also refuses a certificate file and sign-in combination that cannot work.
 */
import path from 'node:path';
import { readConfinedFile } from './confined-file.js';
import { child, stringAt, type Located, type PathSegment } from './located.js';
import { pathToString, type Problem } from './problems.js';
import { PFX_FILE } from './schema.js';
import { MAX_SOURCE_BYTES, MAX_USAGE_REPORT_BYTES } from './source.js';

const PEM_FILE = /\.(pem|crt|cer|key)$/i;

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
      if (stringAt(child(step, 'uses')) !== 'smtp-auth/usage') continue;
      const node = child(child(step, 'with'), 'report');
      const report = stringAt(node);
      if (!node || report === undefined || unresolved(report)) continue;
      const checked = await readConfinedFile(path.resolve(options.baseDir, report), {
        roots: options.fileRoots,
        maxBytes: MAX_USAGE_REPORT_BYTES,
        read: false,
      });
      if (!checked.ok) {
        const missingHere = checked.reason === 'missing' && options.runFiles === 'warn';
        problem(
          node,
          `cannot read the usage report ${report}: ${checked.detail}${missingHere ? ' (needed by plan and apply)' : ''}`,
          ['steps', index, 'with', 'report'],
          reportHint(checked.reason),
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

function reportHint(reason: string): string {
  if (reason === 'outside-root') return "report: reads only inside the playbook's folder; copy the CSV there, or name its folder under fileRoots:";
  if (reason === 'too-large') return `a usage report over ${MAX_USAGE_REPORT_BYTES / (1024 * 1024)} MiB is refused; export a shorter period`;
  if (reason === 'not-regular') return 'report: must name a regular CSV file (not a folder, FIFO or device)';
  return "report: is a path relative to the playbook's folder; export Reports > Mail flow > SMTP AUTH clients report as CSV there";
}
