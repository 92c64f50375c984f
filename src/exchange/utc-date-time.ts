/**
 * A DateTime parameter that must reach the cmdlet as a UTC instant of Kind Utc, whatever the host's
 * time zone. A string such as "2026-12-07T21:00:00.000Z" would not do: PowerShell converts it to a
 * DateTime of Kind Local (16:00 on a host in New York), and Start-HistoricalSearch's StartDate /
 * EndDate are read by the service as UTC (shared/EXCHANGE-FACTS.md "Historical search").
 *
 * On the wire (the pwsh host's stdin, src/exchange/pwsh/host.ps1 and host-writer.cs) the value is
 *     "StartDate": { "$dateTimeUtc": "2026-12-07T21:00:00.000Z" }
 * and both request loops bind it as [DateTimeOffset]::Parse(text, InvariantCulture,
 * AssumeUniversal).UtcDateTime; the simulator binds it as that instant (simulator/parameters.ts), and
 * `explain` prints it as a literal that binds the same (explain/ps-literal.ts).
 */
import type { PsValue } from './session.js';

export const UTC_DATE_TIME_KEY = '$dateTimeUtc';

/** An ISO-8601 instant (ending in Z or an offset) as a DateTime of Kind Utc for the cmdlet. */
export function utcDateTimeValue(iso: string): PsValue {
  if (Number.isNaN(Date.parse(iso)) || !/(Z|[+-]\d\d:\d\d)$/.test(iso)) throw new RangeError(`'${iso}' is not an ISO-8601 instant with a zone`);
  return { [UTC_DATE_TIME_KEY]: new Date(iso).toISOString() };
}

/** The ISO instant of a `{ "$dateTimeUtc": ... }` value, or null for any other value. */
export function utcDateTimeOf(value: PsValue | undefined): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const keys = Object.keys(value);
  const text = value[UTC_DATE_TIME_KEY];
  return keys.length === 1 && typeof text === 'string' ? text : null;
}
