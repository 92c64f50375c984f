/**
 * Issue 22 point 5: Windows sign-in by certificate thumbprint. The certificate stays in the Windows
 * store; the module gets it as -Certificate, loaded by the host from Cert:\<store>\My\<thumbprint>
 * (Connect-ExchangeOnline takes -Certificate <X509Certificate2>: Microsoft Learn, Connect-ExchangeOnline).
 * Elsewhere the method is refused with a clear message before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { assertThumbprintPlatform, CERTIFICATE_FROM_STORE_KEY, moduleConnectRequest } from '../../../src/exchange/connect/module-sign-in.js';
import { createConnector } from '../../../src/exchange/connect/connector.js';
import { authSchema } from '../../../src/playbook/schema.js';
import { InputError } from '../../../src/errors.js';

const THUMB = 'a909502dd82ae41433e6f83886b00d4277a32a7b';

describe('tenant.auth method certificate-thumbprint', () => {
  it('takes a 40-hex thumbprint and a store (CurrentUser by default)', () => {
    expect(authSchema.parse({ method: 'certificate-thumbprint', appId: 'app', thumbprint: THUMB })).toMatchObject({ store: 'CurrentUser' });
    expect(authSchema.parse({ method: 'certificate-thumbprint', appId: 'app', thumbprint: THUMB, store: 'LocalMachine' })).toMatchObject({ store: 'LocalMachine' });
    expect(authSchema.safeParse({ method: 'certificate-thumbprint', appId: 'app', thumbprint: 'A9 09 50' }).success).toBe(false);
    expect(authSchema.safeParse({ method: 'certificate-thumbprint', appId: 'app', thumbprint: THUMB, store: 'Root' }).success).toBe(false);
  });

  it('sends -AppId and -Certificate as data naming the store and the thumbprint (upper case), never script text', () => {
    const request = moduleConnectRequest('contoso.onmicrosoft.com', ['Get-TransportConfig'], { method: 'certificate-thumbprint', appId: 'app', thumbprint: THUMB, store: 'LocalMachine' }, '/x');
    expect(request.parameters).toMatchObject({ Organization: 'contoso.onmicrosoft.com', AppId: 'app', Certificate: { [CERTIFICATE_FROM_STORE_KEY]: `LocalMachine/${THUMB.toUpperCase()}` } });
    expect(request.parameters).not.toHaveProperty('CertificateFilePath');
    expect(request.secretParameters).toEqual([]);
  });

  it('is refused outside Windows with a message that says why and what to use instead', () => {
    const auth = { method: 'certificate-thumbprint' as const };
    expect(() => assertThumbprintPlatform(auth, 'win32')).not.toThrow();
    for (const platform of ['linux', 'darwin'] as const) {
      expect(() => assertThumbprintPlatform(auth, platform)).toThrow(InputError);
      expect(() => assertThumbprintPlatform(auth, platform)).toThrow(`tenant.auth method certificate-thumbprint reads the Windows certificate store, which ${platform} does not have`);
    }
    expect(() => assertThumbprintPlatform({ method: 'certificate' }, 'linux')).not.toThrow();
  });

  it.skipIf(process.platform === 'win32')('the connector refuses it here before any PowerShell runs', () => {
    const tenant = { organization: 'contoso.onmicrosoft.com', auth: { method: 'certificate-thumbprint' as const, appId: 'app', thumbprint: THUMB, store: 'CurrentUser' as const } };
    expect(() => createConnector(tenant as Parameters<typeof createConnector>[0], { env: {}, baseDir: '/x', cmdlets: ['Get-TransportConfig'] } as unknown as Parameters<typeof createConnector>[1])).toThrow(/Windows certificate store/);
  });
});
