/**
 * The proxy every HTTP call of the CLI goes through, from the environment a jump host already has:
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY (or their lower-case forms). Node 20's fetch ignores them, so
 * when one is set, undici's EnvHttpProxyAgent becomes fetch's global dispatcher (Graph requests, the
 * webhook, the GitHub OIDC token). Token requests made by @azure/identity go through its own pipeline,
 * which reads the same variables itself (@azure/core-rest-pipeline's proxy policy). PowerShell's
 * ExchangeOnlineManagement (.NET HttpClient) reads them too, from the host's environment.
 */

import { InputError } from '../errors.js';

/** The proxy settings an environment holds; absent when no proxy is set. */
export function proxySettings(env: NodeJS.ProcessEnv): { httpProxy?: string; httpsProxy?: string; noProxy?: string } | undefined {
  const pick = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  const httpProxy = pick('HTTP_PROXY');
  const httpsProxy = pick('HTTPS_PROXY');
  if (!httpProxy && !httpsProxy) return undefined;
  const noProxy = pick('NO_PROXY');
  return { ...(httpProxy ? { httpProxy } : {}), ...(httpsProxy ? { httpsProxy } : {}), ...(noProxy ? { noProxy } : {}) };
}

/**
 * Routes fetch through the environment's proxy; returns false (and changes nothing) without one.
 * A proxy URL that cannot be parsed is an error the caller reports: running without the proxy the
 * operator set would send requests where the network forbids them.
 */
export async function useEnvironmentProxy(env: NodeJS.ProcessEnv): Promise<boolean> {
  const settings = proxySettings(env);
  if (!settings) return false;
  for (const [name, value] of Object.entries(settings)) {
    if (name !== 'noProxy' && !URL.canParse(value)) throw new InputError(`${name === 'httpProxy' ? 'HTTP_PROXY' : 'HTTPS_PROXY'} is not a URL (e.g. http://proxy.example:3128)`);
  }
  // undici is CommonJS: bundled, its exports may sit under `default`.
  const loaded = (await import('undici')) as typeof import('undici') & { default?: typeof import('undici') };
  const { EnvHttpProxyAgent, setGlobalDispatcher } = loaded.default ?? loaded;
  // undici marks the class experimental with a process warning on stderr; the CLI says nothing of it.
  const emitWarning = process.emitWarning;
  process.emitWarning = (() => undefined) as typeof process.emitWarning;
  try {
    setGlobalDispatcher(new EnvHttpProxyAgent({ httpProxy: settings.httpProxy, httpsProxy: settings.httpsProxy ?? settings.httpProxy, noProxy: settings.noProxy ?? '' }));
  } finally {
    process.emitWarning = emitWarning;
  }
  return true;
}
