/**
 * Service errors as the ExchangeOnlineManagement v3 cmdlets give them (EXCHANGE-FACTS "Errors as the
 * v3 REST cmdlets give them"), taken apart into code, exception type, text and HTTP status, so that
 * journals and messages show the service's own words and the engine can tell throttling and
 * not-found from everything else. Shapes:
 * - `Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|<text>`;
 * - the empty-code `|Microsoft.Exchange.Management.Tasks.RecipientTaskException|<text>`;
 * - Get-EXO*: `Error while querying REST service. HttpStatusCode=<n> ErrorMessage={"error":{"code":..,"message":..}}`
 *   (RestClientException, category ProtocolError; seen in MicrosoftDocs/office-docs-powershell#4333).
 * The pwsh host already splits the first two (record.code, record.exceptionType, record.message);
 * this also accepts records that still carry the joined text.
 */
import type { CmdletErrorRecord } from './session.js';

export interface ServiceErrorParts {
  /** The service's error code (e.g. Ex6F9304), or the REST error code (e.g. NotFound); null when none. */
  code: string | null;
  exceptionType: string;
  /** The service's text, without code, type or REST framing. */
  text: string;
  /** The HTTP status of a REST-form error; null otherwise. */
  httpStatus: number | null;
}

const PIPE_FORM = /^(?<code>[A-Za-z0-9]*)\|(?<type>[\w.]+)\|(?<text>[\s\S]*)$/;
const REST_FORM = /^Error while querying REST service\.\s*HttpStatusCode=(?<status>\d+)\s*ErrorMessage=(?<body>[\s\S]*)$/;

export function parseServiceError(record: CmdletErrorRecord): ServiceErrorParts {
  let { exceptionType } = record;
  let text = record.message;
  let code: string | null = record.code ? record.code : null;
  const piped = PIPE_FORM.exec(text);
  if (piped?.groups) {
    exceptionType = piped.groups.type!;
    text = piped.groups.text!;
    code = piped.groups.code || code;
  }
  const rest = REST_FORM.exec(text.trim());
  if (!rest?.groups) return { code, exceptionType, text, httpStatus: null };
  const body = restBody(rest.groups.body!.trim());
  return { code: body.code ?? code, exceptionType, text: body.message ?? rest.groups.body!.trim(), httpStatus: Number(rest.groups.status) };
}

function restBody(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    const error = parsed.error ?? {};
    return {
      ...(typeof error.code === 'string' ? { code: error.code } : {}),
      ...(typeof error.message === 'string' ? { message: error.message } : {}),
    };
  } catch {
    return {};
  }
}

/** "<text> (ManagementObjectNotFoundException, code Ex6F9304)": the service's words first, then where they came from. */
export function describeServiceError(record: CmdletErrorRecord): string {
  const parts = parseServiceError(record);
  // A bare System.Exception says nothing the text does not.
  const type = parts.exceptionType && parts.exceptionType !== 'System.Exception' ? parts.exceptionType.split('.').pop() : undefined;
  const origin = [
    type,
    parts.httpStatus !== null ? `HTTP ${parts.httpStatus}` : undefined,
    parts.code ? `code ${parts.code}` : undefined,
  ].filter(Boolean);
  return origin.length ? `${parts.text} (${origin.join(', ')})` : parts.text;
}

/** The object the call named does not exist (and nothing else went wrong). */
export function isNotFoundRecord(record: CmdletErrorRecord): boolean {
  const parts = parseServiceError(record);
  if (/ManagementObjectNotFound/i.test(parts.exceptionType)) return true;
  return parts.httpStatus === 404 && /couldn't be found/i.test(parts.text);
}

/** The texts and statuses Exchange Online uses to ask the caller to back off (EXCHANGE-FACTS "Throttling"). */
const THROTTLING_TEXT = [/maximum number of concurrent requests/i, /server busy/i, /too many requests/i, /service unavailable/i, /gateway time-?out/i, /request time-?out/i];
const THROTTLING_STATUS = new Set([408, 429, 503, 504]);

export function isThrottlingRecord(record: CmdletErrorRecord): boolean {
  const parts = parseServiceError(record);
  if (parts.httpStatus !== null && THROTTLING_STATUS.has(parts.httpStatus)) return true;
  return THROTTLING_TEXT.some((re) => re.test(parts.text));
}
