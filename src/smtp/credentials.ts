/**
 * The secret of a probe, read at the moment of AUTH and nowhere earlier: a password or token from a
 * `${env:}`/`${file:}` reference, or an app-only token for https://outlook.office365.com/.default from
 * the playbook's tenant.auth credential (the sign-in code of src/exchange/connect, reused). The app
 * then needs SMTP.SendAsApp and an Exchange service principal with rights on the canary mailbox
 * (Microsoft Learn, "Authenticate an IMAP, POP or SMTP connection using OAuth").
 */
import { InputError } from '../errors.js';
import type { credentialFor as CredentialFor, CredentialAuth } from '../exchange/connect/credentials.js';
import type { SignInContext } from '../exchange/connect/context.js';
import { credentialTokenSource, suppliedTokenSource } from '../exchange/connect/token-source.js';
import { resolveSecret } from '../playbook/resolve.js';
import type { Playbook } from '../playbook/schema.js';
import type { SecretSource } from './client.js';

export interface SecretSourceOptions {
  env: NodeJS.ProcessEnv;
  baseDir: string;
  /** The playbook's tenant, for `tenant-credential` tokens. */
  tenant?: Playbook['tenant'];
  onDeviceCode?: (message: string) => void;
  /** Test seam. */
  credentialFor?: typeof CredentialFor;
}

export function probeSecretSource(options: SecretSourceOptions): SecretSource {
  return async (request) => {
    if (request.secret.kind === 'reference') {
      const value = await resolveSecret(request.secret.reference, options.env, options.baseDir);
      if (value === '') throw new InputError(`the secret ${request.secret.reference} for the probe of ${request.mailbox} is empty`);
      return value;
    }
    const tenant = options.tenant;
    if (!tenant) throw new InputError('an OAuth probe with the tenant credential needs a playbook (tenant.auth)', undefined, 'give the token with a reference instead');
    const context: SignInContext = {
      organization: tenant.organization,
      env: options.env,
      baseDir: options.baseDir,
      onDeviceCode: options.onDeviceCode ?? ((message) => process.stderr.write(`${message}\n`)),
      resolveSecret: (reference) => resolveSecret(reference, options.env, options.baseDir),
    };
    const auth = tenant.auth;
    // @azure/identity is loaded only for an OAuth probe that needs it.
    const credentialFor = options.credentialFor ?? (await import('../exchange/connect/credentials.js')).credentialFor;
    const source = auth.method === 'access-token' ? suppliedTokenSource(auth.token, context) : credentialTokenSource(await credentialFor(auth as CredentialAuth, context));
    return (await source()).token;
  };
}
