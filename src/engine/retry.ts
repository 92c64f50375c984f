/**
 * Retry on throttling: the texts Exchange Online returns when it wants the caller to back off
 * (EXCHANGE-FACTS.md "Throttling"). Anything else fails at once: retrying a real error only hides it.
 */
import { isThrottlingRecord } from '../exchange/service-error.js';
import { CmdletFailure } from '../exchange/session.js';

const THROTTLING = [
  /\b(429|503|504|408)\b/,
  /maximum number of concurrent requests/i,
  /server busy/i,
  /too many requests/i,
  /service unavailable/i,
  /gateway time-?out/i,
  /request time-?out/i,
];

export function isThrottling(error: unknown): boolean {
  if (error instanceof CmdletFailure && isThrottlingRecord(error.record)) return true;
  const text =
    error instanceof CmdletFailure
      ? `${error.record.message} ${error.record.exceptionType} ${error.record.fullyQualifiedErrorId}`
      : error instanceof Error
        ? error.message
        : String(error);
  return THROTTLING.some((re) => re.test(text));
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1, injectable so tests are deterministic. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1000, maxDelayMs: 30_000, random: Math.random };

/** Exponential backoff with full jitter: somewhere in [0, min(max, base·2^n)]. */
export function backoffDelay(attempt: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling * policy.random());
}

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  options: {
    policy: RetryPolicy;
    sleep: (ms: number) => Promise<void>;
    /** Which failures are worth another attempt. Default: throttling only (safe for writes). */
    retryable?: (error: unknown) => boolean;
    onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  },
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { value: await operation(attempt), attempts: attempt };
    } catch (error) {
      if (attempt >= options.policy.attempts || !(options.retryable ?? isThrottling)(error)) {
        throw Object.assign(error instanceof Error ? error : new Error(String(error)), { attempts: attempt });
      }
      const delay = backoffDelay(attempt, options.policy);
      options.onRetry?.(attempt, delay, error);
      await options.sleep(delay);
    }
  }
}
