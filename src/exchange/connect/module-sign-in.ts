/**
 * signIn: module — Connect-ExchangeOnline signs in itself; the runner only chooses the parameters.
 *
 * NOTE FOR THE PWSH HOST (src/exchange/pwsh/host.ps1): -CertificatePassword is a [SecureString].
 * A password must never be pasted into script text or passed on argv, so it travels over stdin as
 * data in this shape:
 *     "CertificatePassword": { "$secureString": "<the password>" }
 * The host turns any parameter value that is an object with exactly the one key "$secureString"
 * into a SecureString before splatting (an empty password included):
 *     [System.Net.NetworkCredential]::new('', $text).SecurePassword
 * The parameter name is also listed in InvokeOptions.secretParameters, so it is redacted in logs.
 */
import { resolve } from 'node:path';
import { InputError } from '../../errors.js';
import type { AuthConfig } from '../../playbook/schema.js';
import type { PsValue } from '../session.js';
import { baseConnectParameters, type ConnectRequest } from './parameters.js';

/** The wire shape of a SecureString parameter value (see the note above). */
export const SECURE_STRING_KEY = '$secureString';

export function secureStringValue(text: string): PsValue {
  return { [SECURE_STRING_KEY]: text };
}

/** The auth methods the module can sign in with itself. */
export type ModuleSignInAuth = Extract<AuthConfig, { method: 'certificate' | 'certificate-thumbprint' | 'managed-identity' | 'device-code' }>;

/** The wire shape of a certificate from the Windows store: the host loads it (Get-Item Cert:\<store>\My\<thumbprint>). */
export const CERTIFICATE_FROM_STORE_KEY = '$certificateFromStore';

/** A thumbprint sign-in on a system without the Windows certificate store is refused before PowerShell starts. */
export function assertThumbprintPlatform(auth: Pick<AuthConfig, 'method'>, platform: NodeJS.Platform = process.platform): void {
  if (auth.method === 'certificate-thumbprint' && platform !== 'win32') {
    throw new InputError(
      `tenant.auth method certificate-thumbprint reads the Windows certificate store, which ${platform} does not have; nothing was read`,
      undefined,
      'on Linux or macOS use method: certificate with certificatePath (a PEM file, or a .pfx with signIn: module)',
    );
  }
}

export interface ModuleSignInSecrets {
  /** The resolved certificate password, when the playbook names one. */
  certificatePassword?: string;
}

export function moduleConnectRequest(
  organization: string,
  cmdlets: readonly string[],
  auth: ModuleSignInAuth,
  baseDir: string,
  secrets: ModuleSignInSecrets = {},
): ConnectRequest {
  const parameters = baseConnectParameters(organization, cmdlets);
  const secretParameters: string[] = [];
  switch (auth.method) {
    case 'certificate':
      parameters.AppId = auth.appId;
      // The host runs with its own working directory: hand it an absolute path.
      parameters.CertificateFilePath = resolve(baseDir, auth.certificatePath);
      if (secrets.certificatePassword !== undefined) {
        parameters.CertificatePassword = secureStringValue(secrets.certificatePassword);
        secretParameters.push('CertificatePassword');
      }
      break;
    case 'certificate-thumbprint':
      parameters.AppId = auth.appId;
      // Data, never script text: the host checks the shape and loads the certificate with Get-Item.
      parameters.Certificate = { [CERTIFICATE_FROM_STORE_KEY]: `${auth.store}/${auth.thumbprint.toUpperCase()}` };
      break;
    case 'managed-identity':
      parameters.ManagedIdentity = true;
      if (auth.clientId) parameters.ManagedIdentityAccountId = auth.clientId;
      break;
    case 'device-code':
      parameters.Device = true;
      break;
  }
  return { parameters, secretParameters };
}
