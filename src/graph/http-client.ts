/**
 * The real Graph client: Node's fetch, a bearer token from a token source, a configurable base URL
 * (sovereign clouds; a loopback fake in tests). Safety: the token goes only to the base URL's origin
 * (a nextLink elsewhere is refused), plain http only to loopback, every response is size-capped and
 * every request times out, so a hostile or stuck server ends in an error, never a hang.
 */
import { ExoPlaybookError, InputError } from '../errors.js';
import { GraphError, type GraphClient, type GraphResponse } from './client.js';

export type GraphTokenSource = () => Promise<string>;

export interface HttpGraphOptions {
  baseUrl: string;
  token: GraphTokenSource;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** Per response body (default 64 MiB: a D180 app usage CSV of a 100,000-user tenant is ~20 MB). */
  maxBodyBytes?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function checkBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`tenant.graph.baseUrl ${JSON.stringify(text)} is not a URL`, undefined, 'use e.g. https://graph.microsoft.com (global) or https://graph.microsoft.us (US Government)');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new InputError(`tenant.graph.baseUrl ${text} is not https: a token is never sent in clear text`, undefined, 'use an https:// URL (http:// is accepted for 127.0.0.1 only, for tests)');
  }
  if (url.pathname !== '/' || url.search) throw new InputError(`tenant.graph.baseUrl ${text} must be an origin without a path`, undefined, 'e.g. https://graph.microsoft.com (the client adds /v1.0/...)');
  return url;
}

export class HttpGraphClient implements GraphClient {
  readonly baseUrl: string;
  private readonly origin: string;

  constructor(private readonly options: HttpGraphOptions) {
    const url = checkBaseUrl(options.baseUrl);
    this.origin = url.origin;
    this.baseUrl = url.origin;
  }

  async get(pathOrUrl: string, signal?: AbortSignal): Promise<GraphResponse> {
    const url = parseUrl(pathOrUrl, this.origin);
    if (url.origin !== this.origin) {
      throw new GraphError(`Microsoft Graph pointed to ${url.origin}, outside ${this.origin}: the token is not sent there`, 0, 'foreign-link');
    }
    let token: string;
    try {
      token = await this.options.token();
    } catch (error) {
      if (error instanceof ExoPlaybookError) throw error;
      // @azure/identity's errors are the service's words; the first line says what went wrong.
      const first = String((error as Error)?.message ?? error).split('\n')[0]!.slice(0, 300).replace(/\.$/, '');
      throw new GraphError(`Sign-in to Microsoft Graph (${this.origin}/.default) failed: ${first}. Check the app's Graph permissions and admin consent (docs/OPERATIONS.md, "Microsoft Graph")`, 0, 'sign-in');
    }
    return this.fetch(url, { Authorization: `Bearer ${token}`, Accept: 'application/json' }, signal);
  }

  async download(url: string, signal?: AbortSignal): Promise<GraphResponse> {
    const parsed = parseUrl(url, this.origin);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK.has(parsed.hostname))) {
      throw new GraphError(`the report download URL ${parsed.origin} is not https`, 0, 'insecure-link');
    }
    return this.fetch(parsed, {}, signal);
  }

  private async fetch(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<GraphResponse> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(url, { headers, redirect: 'manual', signal: combined });
    } catch (error) {
      const why = timeout.aborted ? `no answer within ${Math.round((this.options.timeoutMs ?? 60_000) / 1000)} s` : (error as Error).message;
      throw new GraphError(`Microsoft Graph at ${url.origin} could not be reached: ${why}`, 0, 'unreachable');
    }
    const body = await readCapped(response, this.options.maxBodyBytes ?? 64 * 1024 * 1024, url, combined);
    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      out[name.toLowerCase()] = value;
    });
    return { status: response.status, headers: out, body };
  }
}

/** A link from the service that is not a URL is the service's error, said as one (never a stack trace). */
function parseUrl(text: string, origin: string): URL {
  try {
    return text.startsWith('/') ? new URL(text, origin) : new URL(text);
  } catch {
    throw new GraphError(`Microsoft Graph gave a link that is not a URL: ${JSON.stringify(text.slice(0, 120))}`, 0, 'malformed');
  }
}

async function readCapped(response: Response, limit: number, url: URL, signal: AbortSignal): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new GraphError(`Microsoft Graph at ${url.origin} stopped sending: the request timed out`, response.status, 'timeout');
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw new GraphError(`Microsoft Graph's answer from ${url.pathname} is larger than ${Math.round(limit / 1024 / 1024)} MiB: stopped reading`, response.status, 'too-large');
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof GraphError) throw error;
    throw new GraphError(`Microsoft Graph at ${url.origin}: the answer was cut off (${(error as Error).message})`, response.status, 'cut-off');
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString('utf8');
}
