/**
 * The Graph behaviours every client shares: retry on 429/503/504 honouring Retry-After (bounded),
 * OData paging by @odata.nextLink (bounded: a page cap, cycle detection, a malformed or empty page
 * is a located error or a stated stop), and turning error bodies into messages a user can act on.
 *   Throttling: https://learn.microsoft.com/graph/throttling (429 + Retry-After seconds)
 *   Paging:     https://learn.microsoft.com/graph/paging (follow @odata.nextLink until absent)
 */
import type { GraphClient, GraphResponse } from './client.js';
import { GraphError } from './client.js';

export interface RequestPolicy {
  /** Retries of one request after 429/503/504. */
  maxRetries: number;
  /** A Retry-After above this (seconds) is not waited for: the run stops and says so. */
  maxRetryAfterSeconds: number;
  /** Pages followed before a bounded stop. */
  maxPages: number;
  sleep: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export const DEFAULT_POLICY: RequestPolicy = {
  maxRetries: 4,
  maxRetryAfterSeconds: 120,
  maxPages: 500,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** One GET with throttling retries; non-2xx/3xx answers become GraphError (after describe()). */
export async function getWithRetry(client: GraphClient, pathOrUrl: string, policy: RequestPolicy, describe: (r: GraphResponse) => string | undefined = () => undefined): Promise<GraphResponse> {
  for (let attempt = 0; ; attempt++) {
    const response = await client.get(pathOrUrl, policy.signal);
    if ([429, 503, 504].includes(response.status) && attempt < policy.maxRetries) {
      const seconds = retryAfterSeconds(response.headers['retry-after'], attempt);
      if (seconds > policy.maxRetryAfterSeconds) {
        throw new GraphError(`Microsoft Graph throttled the request (HTTP ${response.status}) and asks to wait ${seconds} s, more than ${policy.maxRetryAfterSeconds} s: run again later`, response.status, 'throttled');
      }
      await policy.sleep(seconds * 1000);
      if (policy.signal?.aborted) throw new GraphError('cancelled while waiting for Microsoft Graph throttling to pass', response.status, 'cancelled');
      continue;
    }
    if (response.status >= 200 && response.status < 400) return response;
    throw errorOf(response, describe(response));
  }
}

/** Retry-After in seconds (delta-seconds or an HTTP date); without one, exponential 2, 4, 8 ... s. */
export function retryAfterSeconds(header: string | undefined, attempt: number): number {
  if (header !== undefined && /^\s*\d+\s*$/.test(header)) return Number(header);
  const date = header ? Date.parse(header) : NaN;
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return 2 ** (attempt + 1);
}

export function errorOf(response: GraphResponse, explanation?: string): GraphError {
  const { code, message } = graphErrorBody(response.body);
  const text = `Microsoft Graph answered HTTP ${response.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
  return new GraphError(explanation ? `${text}. ${explanation}` : text, response.status, code);
}

/** Graph's error body: {"error":{"code":"...","message":"..."}}; anything else is shown cut short. */
export function graphErrorBody(body: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (parsed && typeof parsed === 'object' && parsed.error) {
      return { code: typeof parsed.error.code === 'string' ? parsed.error.code : '', message: typeof parsed.error.message === 'string' ? parsed.error.message.slice(0, 500) : '' };
    }
  } catch {
    // not JSON
  }
  return { code: '', message: printable(body).slice(0, 200) };
}

/** Control characters from a hostile body must not reach the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}

export interface PagedResult<T> {
  items: T[];
  pages: number;
  /** Why paging stopped before the last page, if it did (cap, cycle): the data is then incomplete. */
  stoppedEarly: string | null;
  /** Items toItem could not read (hostile or malformed records): skipped and counted. */
  unreadable: number;
}

/**
 * Follows @odata.nextLink. A page that is not a JSON object with a `value` array is an error naming
 * the page number; a nextLink seen before (a cycle) or the page cap stops with `stoppedEarly`.
 */
export async function getAllPages<T>(
  client: GraphClient,
  firstPath: string,
  policy: RequestPolicy,
  toItem: (raw: unknown, page: number, index: number) => T | undefined,
  describe?: (r: GraphResponse) => string | undefined,
): Promise<PagedResult<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  let next: string | undefined = firstPath;
  let pages = 0;
  let unreadable = 0;
  while (next !== undefined) {
    if (pages >= policy.maxPages) return { items, pages, unreadable, stoppedEarly: `stopped after ${pages} pages (the cap): more records exist than were read` };
    if (seen.has(next)) return { items, pages, unreadable, stoppedEarly: `the service's @odata.nextLink repeated page ${[...seen].indexOf(next) + 1}: stopped after ${pages} pages` };
    seen.add(next);
    const response = await getWithRetry(client, next, policy, describe);
    pages++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.body);
    } catch (error) {
      throw new GraphError(`Microsoft Graph page ${pages} of ${firstPath.split('?')[0]} is not JSON (${(error as Error).message}): ${printable(response.body.slice(0, 80))}`, response.status, 'malformed');
    }
    const page = parsed as { value?: unknown; '@odata.nextLink'?: unknown } | null;
    if (!page || typeof page !== 'object' || !Array.isArray(page.value)) {
      throw new GraphError(`Microsoft Graph page ${pages} of ${firstPath.split('?')[0]} has no "value" list: not a collection page`, response.status, 'malformed');
    }
    page.value.forEach((raw, index) => {
      const item = toItem(raw, pages, index);
      if (item !== undefined) items.push(item);
      else unreadable++;
    });
    const link = page['@odata.nextLink'];
    if (link !== undefined && typeof link !== 'string') throw new GraphError(`Microsoft Graph page ${pages}: @odata.nextLink is not a string`, response.status, 'malformed');
    // An empty page that still points further is legal in OData; the cap and the cycle check bound it.
    next = link;
  }
  return { items, pages, unreadable, stoppedEarly: null };
}
