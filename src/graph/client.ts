/**
 * Microsoft Graph, as the usage sources need it: a few GETs. The actions use this small interface;
 * the HTTP client (http-client.ts) talks to the real service (or a loopback fake in tests), the
 * simulated client (simulated.ts) answers from a simulated tenant's state file. Paging, throttling
 * and error meaning live in requests.ts, above both, so every implementation behaves alike.
 */
import { SessionError } from '../errors.js';

export interface GraphResponse {
  status: number;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body: string;
}

export interface GraphClient {
  /** Where requests go, for messages (e.g. "https://graph.microsoft.com"). */
  readonly baseUrl: string;
  /**
   * GET a path below the base URL ("/v1.0/auditLogs/signIns?...") or an absolute URL on the base
   * URL's origin (an @odata.nextLink), signed in. Redirects are returned, not followed.
   */
  get(pathOrUrl: string, signal?: AbortSignal): Promise<GraphResponse>;
  /** GET a pre-authenticated download URL (a report's 302 Location) WITHOUT the Authorization header. */
  download(url: string, signal?: AbortSignal): Promise<GraphResponse>;
}

/** A Graph request that failed in a way the user must act on (licence, permission, throttled out). */
export class GraphError extends SessionError {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The global service; sovereign clouds use their own (tenant.graph.baseUrl). */
export const GRAPH_BASE_URL = 'https://graph.microsoft.com';
