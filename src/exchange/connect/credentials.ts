/**
 * The @azure/identity credential for each auth method that signs in with a token. Kept to a thin
 * mapping: real token acquisition is only exercised against a real tenant (managed identity also
 * against a loopback token endpoint in the tests).
 */
import { createPrivateKey } from 'node:crypto';
import { readRegularFile } from '../../files/regular-file.js';
import { resolve } from 'node:path';
import {
  AzureCliCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  DeviceCodeCredential,
  ManagedIdentityCredential,
  type ClientCertificateCredentialOptions,
  type TokenCredential,
} from '@azure/identity';
import { InputError } from '../../errors.js';
import type { AuthConfig } from '../../playbook/schema.js';
import type { SignInContext } from './context.js';
import { workloadIdentityCredential } from './workload-identity.js';

/** The auth methods that get a token through @azure/identity (access-token brings its own). */
export type CredentialAuth = Extract<AuthConfig, { method: 'certificate' | 'managed-identity' | 'device-code' | 'azure-cli' | 'workload-identity' | 'partner' }>;

export type PartnerAuth = Extract<AuthConfig, { method: 'partner' }>;

/**
 * The tenant a partner token is asked from: the customer's (GDAP / Secure Application Model: the
 * partner's app is consented there, so the customer's tenant issues the token; Partner Center,
 * learn.microsoft.com/powershell/partnercenter/exchange-online-gdap-app). The customer's tenant id
 * when known, else its primary domain, which Entra also takes as the authority's tenant.
 */
export function partnerTokenTenant(auth: PartnerAuth, organization: string): string {
  return auth.customerTenantId ?? organization;
}

/**
 * `clientOptions` reach the credential unchanged; tests pass an in-process httpClient (no network)
 * so the whole token request, the signed client assertion included, runs for real.
 */
export async function credentialFor(auth: CredentialAuth, context: SignInContext, clientOptions: ClientCertificateCredentialOptions = {}): Promise<TokenCredential> {
  switch (auth.method) {
    case 'certificate':
      return certificateCredential(auth, context.organization, context, clientOptions);
    case 'partner':
      return partnerCredential(auth, context, clientOptions);
    case 'managed-identity':
      // Reads IDENTITY_ENDPOINT & co. from the process environment itself (MSAL does, not configurable).
      return new ManagedIdentityCredential(auth.clientId ? { clientId: auth.clientId } : {});
    case 'device-code':
      return new DeviceCodeCredential({
        tenantId: context.organization,
        ...(auth.clientId ? { clientId: auth.clientId } : {}),
        userPromptCallback: (info) => context.onDeviceCode(info.message),
      });
    case 'azure-cli':
      return new AzureCliCredential({ tenantId: context.organization });
    case 'workload-identity':
      return workloadIdentityCredential(auth, context);
  }
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY_BLOCK = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;
const ENCRYPTED_KEY = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/;

/** The app's certificate as certificate and partner sign-ins name it. */
interface CertificateFile {
  appId: string;
  certificatePath: string;
  certificatePassword?: string | undefined;
}

/** Client credentials of the partner's app (certificate or secret) against the customer's tenant. */
async function partnerCredential(auth: PartnerAuth, context: SignInContext, clientOptions: ClientCertificateCredentialOptions): Promise<TokenCredential> {
  const tenant = partnerTokenTenant(auth, context.organization);
  if (auth.certificatePath !== undefined) {
    return certificateCredential({ appId: auth.appId, certificatePath: auth.certificatePath, certificatePassword: auth.certificatePassword }, tenant, context, clientOptions);
  }
  if (auth.clientSecret === undefined) throw new InputError('tenant.auth (partner): neither certificatePath nor clientSecret is given', undefined, 'give one of them');
  // Read at sign-in only, like every secret; it goes to @azure/identity and nowhere else.
  const secret = await context.resolveSecret(auth.clientSecret);
  if (secret.trim() === '') throw new InputError(`tenant.auth.clientSecret: the reference ${auth.clientSecret} is empty`, undefined, "put the app's client secret there");
  return new ClientSecretCredential(tenant, auth.appId, secret, clientOptions);
}

async function certificateCredential(
  auth: CertificateFile,
  tenant: string,
  context: SignInContext,
  clientOptions: ClientCertificateCredentialOptions,
): Promise<TokenCredential> {
  const file = resolve(context.baseDir, auth.certificatePath);
  const pem = await readCertificate(file);
  const encrypted = ENCRYPTED_KEY.test(pem);
  if (encrypted && !auth.certificatePassword) {
    throw new InputError(
      `tenant.auth: the private key in ${file} is encrypted and no certificatePassword is given`,
      undefined,
      'add certificatePassword: "${env:NAME}" naming an environment variable that holds the password',
    );
  }
  const certificatePassword = auth.certificatePassword ? await context.resolveSecret(auth.certificatePassword) : undefined;
  if (encrypted && certificatePassword !== undefined) assertPasswordOpensKey(pem, certificatePassword, file);
  // The tenant's domain name is a valid tenant id for the token authority.
  return new ClientCertificateCredential(
    tenant,
    auth.appId,
    { certificate: pem, ...(certificatePassword !== undefined ? { certificatePassword } : {}) },
    clientOptions,
  );
}

async function readCertificate(file: string): Promise<string> {
  // A regular file under 1 MiB, opened without waiting (a FIFO or device is refused: src/files).
  const read = await readRegularFile(file, { maxBytes: 1024 * 1024 });
  if (!read.ok) {
    throw new InputError(
      `tenant.auth.certificatePath: cannot read ${file}: ${read.detail}`,
      undefined,
      'point certificatePath at a PEM file (relative to the playbook) that holds the certificate and its private key',
    );
  }
  const pem = read.bytes.toString('utf8');
  if (!CERTIFICATE_BLOCK.test(pem) || !PRIVATE_KEY_BLOCK.test(pem)) {
    throw new InputError(
      `tenant.auth.certificatePath: ${file} is not a PEM file with both a certificate and a private key`,
      undefined,
      'token sign-in needs PEM; convert a PFX with `openssl pkcs12 -in cert.pfx -out cert.pem`, or use signIn: module (which also takes a PFX)',
    );
  }
  return pem;
}

/** A wrong password is a local mistake: say so now rather than as an opaque token failure later. */
function assertPasswordOpensKey(pem: string, passphrase: string, file: string): void {
  try {
    createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    throw new InputError(
      `tenant.auth.certificatePassword does not open the private key in ${file}`,
      undefined,
      'check the environment variable or file the certificatePassword reference names',
    );
  }
}
