import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AzureCliCredential,
  ClientCertificateCredential,
  DeviceCodeCredential,
  ManagedIdentityCredential,
  type DeviceCodeInfo,
} from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import type { SignInContext } from '../../../src/exchange/connect/context.js';
import { credentialFor } from '../../../src/exchange/connect/credentials.js';
import { jwtExpiry } from '../../../src/exchange/connect/token-source.js';
import { resolveSecret } from '../../../src/playbook/resolve.js';

const ORG = 'contoso.onmicrosoft.com';
const PASSWORD = 'correct-horse-battery';
// Only the block's presence matters before the token request; identity parses it at getToken.
const CERTIFICATE = '-----BEGIN CERTIFICATE-----\nMIIBfakeCertificateBody0000\n-----END CERTIFICATE-----\n';

let dir: string;

function context(env: NodeJS.ProcessEnv = {}, onDeviceCode: (m: string) => void = () => undefined): SignInContext {
  return { organization: ORG, env, baseDir: dir, onDeviceCode, resolveSecret: (ref) => resolveSecret(ref, env, dir) };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'exo-credentials-'));
  const plain = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
  const encrypted = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSWORD },
  }).privateKey;
  await writeFile(join(dir, 'plain.pem'), `${CERTIFICATE}${plain.toString()}`);
  await writeFile(join(dir, 'encrypted.pem'), `${CERTIFICATE}${encrypted}`);
  await writeFile(join(dir, 'cert.pfx'), Buffer.from([0x30, 0x82, 0x0a, 0x01]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('credentialFor: certificate', () => {
  const certificate = (certificatePath: string, certificatePassword?: string) =>
    ({ method: 'certificate', appId: 'app-1', certificatePath, signIn: 'token', ...(certificatePassword ? { certificatePassword } : {}) }) as const;

  it('a PEM with a plain key (relative to the playbook) gives a ClientCertificateCredential', async () => {
    expect(await credentialFor(certificate('plain.pem'), context())).toBeInstanceOf(ClientCertificateCredential);
  });

  it('an encrypted key opens with the password from the certificatePassword reference', async () => {
    const credential = await credentialFor(certificate('encrypted.pem', '${env:EXO_CERT_PASSWORD}'), context({ EXO_CERT_PASSWORD: PASSWORD }));
    expect(credential).toBeInstanceOf(ClientCertificateCredential);
  });

  it('an encrypted key without certificatePassword is an InputError that says what to add', async () => {
    const failure = await credentialFor(certificate('encrypted.pem'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as InputError).message).toMatch(/private key in .*encrypted\.pem is encrypted and no certificatePassword is given/);
    expect((failure as InputError).hint).toContain('certificatePassword: "${env:NAME}"');
  });

  it('a wrong password is named as such, and the password is not echoed', async () => {
    const failure = await credentialFor(certificate('encrypted.pem', '${env:PW}'), context({ PW: 'wrong-password-xyz' })).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(InputError);
    expect((failure as Error).message).toMatch(/certificatePassword does not open the private key in .*encrypted\.pem/);
    expect((failure as Error).message).not.toContain('wrong-password-xyz');
  });

  it('a missing file and a PFX are InputErrors naming the file and the fix', async () => {
    await expect(credentialFor(certificate('nope.pem'), context())).rejects.toThrow(/cannot read .*nope\.pem: no such file/);
    const pfx = await credentialFor(certificate('cert.pfx'), context()).catch((e: unknown) => e);
    expect(pfx).toBeInstanceOf(InputError);
    expect((pfx as InputError).message).toMatch(/cert\.pfx is not a PEM file/);
    expect((pfx as InputError).hint).toMatch(/openssl pkcs12 .*signIn: module/);
  });
});

describe('credentialFor: other methods', () => {
  it('managed identity, azure cli', async () => {
    expect(await credentialFor({ method: 'managed-identity', signIn: 'token' }, context())).toBeInstanceOf(ManagedIdentityCredential);
    expect(await credentialFor({ method: 'azure-cli' }, context())).toBeInstanceOf(AzureCliCredential);
  });

  it("device code: the credential's prompt callback is wired to onDeviceCode", async () => {
    const shown: string[] = [];
    const credential = await credentialFor({ method: 'device-code', signIn: 'token' }, context({}, (m) => shown.push(m)));
    expect(credential).toBeInstanceOf(DeviceCodeCredential);
    // The callback DeviceCodeCredential calls when Entra hands out a code (a private field; no network here).
    const callback = (credential as unknown as { userPromptCallback: (info: DeviceCodeInfo) => void }).userPromptCallback;
    callback({ userCode: 'ABCD', verificationUri: 'https://microsoft.com/devicelogin', message: 'Open https://microsoft.com/devicelogin, enter ABCD' });
    expect(shown).toEqual(['Open https://microsoft.com/devicelogin, enter ABCD']);
  });
});

describe('jwtExpiry', () => {
  it('reads exp from a JWT and nothing from an opaque token', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1_800_000_000 })).toString('base64url');
    expect(jwtExpiry(`e30.${payload}.sig`)?.toISOString()).toBe('2027-01-15T08:00:00.000Z');
    expect(jwtExpiry('opaque-token')).toBeNull();
    expect(jwtExpiry('a.!!!.c')).toBeNull();
  });
});
