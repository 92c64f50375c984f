/**
 * Test certificates made at test time with openssl (never committed): a self-signed certificate
 * and its key as one PEM, and the same as a password-protected PKCS#12 (.pfx).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TestCertificates {
  /** Certificate and private key in one PEM file. */
  pem: string;
  /** The certificate alone (a PEM without a key). */
  certificateOnlyPem: string;
  /** PKCS#12 with the key, protected by `password`. */
  pfx: string;
  password: string;
}

export function makeCertificates(dir: string, password: string, pfxPath = join(dir, 'exo.pfx')): TestCertificates {
  mkdirSync(dir, { recursive: true });
  mkdirSync(dirname(pfxPath), { recursive: true });
  const key = join(dir, 'key.pem');
  const certificateOnlyPem = join(dir, 'certificate-only.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', certificateOnlyPem, '-days', '2', '-subj', '/CN=exo-playbook-test'], { stdio: 'ignore' });
  const pem = join(dir, 'exo.pem');
  writeFileSync(pem, readFileSync(certificateOnlyPem, 'utf8') + readFileSync(key, 'utf8'), { mode: 0o600 });
  // The password reaches openssl through its environment, not argv.
  execFileSync('openssl', ['pkcs12', '-export', '-in', certificateOnlyPem, '-inkey', key, '-out', pfxPath, '-passout', 'env:EXO_TEST_PFX_PASSWORD'], {
    stdio: 'ignore',
    env: { ...process.env, EXO_TEST_PFX_PASSWORD: password },
  });
  rmSync(key);
  return { pem, certificateOnlyPem, pfx: pfxPath, password };
}
