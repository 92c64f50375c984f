/**
 * Where a probe's secret comes from: a reference read at AUTH, or for OAuth an app-only token for
 * https://outlook.office365.com/.default from tenant.auth's credential (the Exchange sign-in code).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/identity';
import { probeSecretSource } from '../../src/smtp/credentials.js';
import type { ProbeRequest } from '../../src/smtp/types.js';

const request = (secret: ProbeRequest['secret']): ProbeRequest => ({ host: 'h', port: 587, mailbox: 'canary@contoso.com', mechanism: 'XOAUTH2', secret, timeoutMs: 1000, clientName: 't' });

describe('probe secrets', () => {
  it('reads ${env:} and ${file:} references only when asked, and refuses an empty one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exo-probe-secret-'));
    try {
      writeFileSync(join(dir, 'pw.txt'), 'from-a-file\n');
      writeFileSync(join(dir, 'empty.txt'), '');
      const source = probeSecretSource({ env: { PW: 'from-env' }, baseDir: dir });
      expect(await source(request({ kind: 'reference', reference: '${env:PW}' }))).toBe('from-env');
      expect(await source(request({ kind: 'reference', reference: '${file:pw.txt}' }))).toBe('from-a-file');
      await expect(source(request({ kind: 'reference', reference: '${file:empty.txt}' }))).rejects.toThrow(/is empty/);
      await expect(source(request({ kind: 'reference', reference: 'inline-secret' }))).rejects.toThrow(/never written inline/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("OAuth without a token reference asks tenant.auth's credential for https://outlook.office365.com/.default", async () => {
    const scopes: (string | string[])[] = [];
    const credential: TokenCredential = {
      getToken: async (scope) => {
        scopes.push(scope);
        return { token: 'app-only-token', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const seen: string[] = [];
    const source = probeSecretSource({
      env: {},
      baseDir: '/',
      tenant: { organization: 'contoso.onmicrosoft.com', auth: { method: 'certificate', appId: 'app', certificatePath: 'c.pem', signIn: 'token' } },
      credentialFor: async (auth, context) => {
        seen.push(`${auth.method} ${context.organization}`);
        return credential;
      },
    });
    expect(await source(request({ kind: 'tenant-credential' }))).toBe('app-only-token');
    expect(scopes).toEqual(['https://outlook.office365.com/.default']);
    expect(seen).toEqual(['certificate contoso.onmicrosoft.com']);
  });

  it('OAuth with the tenant credential needs a playbook', async () => {
    await expect(probeSecretSource({ env: {}, baseDir: '/' })(request({ kind: 'tenant-credential' }))).rejects.toThrow(/needs a playbook/);
  });
});
