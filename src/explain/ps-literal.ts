/**
 * PowerShell literals for `explain`: a printed call must bind exactly the values the runner binds by
 * splatting, so every value is a literal, never an expression PowerShell would evaluate.
 *
 * Strings are single-quoted (no $-expansion, no backtick escapes, no subexpressions). Inside a
 * single-quoted string PowerShell treats all five single-quote characters as quotes:
 * ' (U+0027) and the "smart" ‘ ’ ‚ ‛ (U+2018-U+201B); doubling a quote character yields that one
 * character, so each of them is doubled.
 */
import type { CmdletParameters, PsValue } from '../exchange/session.js';
import { utcDateTimeOf } from '../exchange/utc-date-time.js';

const SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

export function quoteString(value: string): string {
  return `'${value.replace(SINGLE_QUOTES, (q) => q + q)}'`;
}

function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`${value} has no PowerShell literal`);
  // Negative numbers are wrapped so `-Count -5` cannot be read as a parameter name.
  return value < 0 ? `(${String(value)})` : String(value);
}

export function psLiteral(value: PsValue): string {
  if (value === null) return '$null';
  if (typeof value === 'boolean') return value ? '$true' : '$false';
  if (typeof value === 'number') return numberLiteral(value);
  if (typeof value === 'string') return quoteString(value);
  // A DateTime of Kind Utc (exchange/utc-date-time.ts): a cast `[datetime]'...Z'` would be Kind Local.
  // A method call on literals only, so it binds the same instant and Kind the runner sends.
  const utc = utcDateTimeOf(value);
  if (utc !== null) return `([datetime]::Parse(${quoteString(utc)}, [cultureinfo]::InvariantCulture, 'AdjustToUniversal'))`;
  if (Array.isArray(value)) {
    // @(x) unrolls an array x, so a one-element array holding an array needs the unary comma.
    if (value.length === 1 && Array.isArray(value[0])) return `@(,${psLiteral(value[0])})`;
    return `@(${value.map(psLiteral).join(',')})`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${quoteString(k)}=${psLiteral(v)}`);
  return `@{${entries.join('; ')}}`;
}

/**
 * Parameters typed [bool] / [Nullable[bool]] that read better as `-Name $true` (the form Microsoft's
 * documentation uses). Every other boolean is written `-Name:$value`, the only form that binds a
 * [switch] parameter to $false; it binds [bool] parameters the same way.
 */
const BOOL_VALUE_PARAMETERS = new Set(['smtpclientauthenticationdisabled', 'allowbasicauthsmtp']);

const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

export function formatParameter(name: string, value: PsValue): string {
  if (!PARAMETER_NAME.test(name)) throw new RangeError(`'${name}' is not a PowerShell parameter name`);
  if (typeof value === 'boolean' && !BOOL_VALUE_PARAMETERS.has(name.toLowerCase())) return `-${name}:${psLiteral(value)}`;
  return `-${name} ${psLiteral(value)}`;
}

const CMDLET_NAME = /^[A-Za-z]+-[A-Za-z0-9]+$/;

/** One line: `Verb-Noun -Name value ...`, parameters in the order given. */
export function formatCall(cmdlet: string, parameters: CmdletParameters = {}): string {
  if (!CMDLET_NAME.test(cmdlet)) throw new RangeError(`'${cmdlet}' is not a cmdlet name`);
  return [cmdlet, ...Object.entries(parameters).map(([n, v]) => formatParameter(n, v))].join(' ');
}
