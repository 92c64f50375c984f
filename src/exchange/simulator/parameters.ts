/**
 * Parameter binding as PowerShell does it for the simulated cmdlets: names are case-insensitive and
 * may be abbreviated to an unambiguous prefix; unknown names, missing mandatory parameters and values
 * of the wrong type fail with the binder's own error records, before the "service" sees the call.
 */
import { CmdletFailure, type CmdletParameters, type PsValue } from '../session.js';
import { utcDateTimeOf } from '../utc-date-time.js';
import {
  ambiguousParameter,
  argumentTransformation,
  missingMandatoryParameters,
  parameterNotFound,
} from './records.js';

export type ParameterType =
  | 'string'
  | 'string[]'
  | 'bool'
  /** [Nullable[bool]]: $true, $false or $null (the tri-state mailbox switch). */
  | 'nullable-bool'
  | 'switch'
  | 'date'
  /** A System.Guid: the canonical lower-case text of a GUID. */
  | 'guid'
  /** "Unlimited" or a positive whole number. */
  | 'result-size'
  /** Accepted and ignored by the simulation (e.g. a SecureString password). */
  | 'any';

export interface ParameterSpec {
  name: string;
  /** How the simulation binds the value. */
  type: ParameterType;
  /**
   * The .NET type the real cmdlet declares (test/fixtures/exo-cmdlet-signatures.json): a test fails
   * when a simulated cmdlet takes a parameter the real one lacks, or names another type.
   */
  clr: string;
  mandatory?: boolean;
}

/** PowerShell's common parameters, accepted by every cmdlet. */
const COMMON: ParameterSpec[] = [
  'Verbose',
  'Debug',
  'ErrorAction',
  'WarningAction',
  'InformationAction',
  'ProgressAction',
  'ErrorVariable',
  'WarningVariable',
  'InformationVariable',
  'OutVariable',
  'OutBuffer',
  'PipelineVariable',
].map((name) => ({ name, type: name === 'Verbose' || name === 'Debug' ? 'switch' : 'any', clr: 'common' }) as ParameterSpec);

/** The .NET type names the tables use most. */
export const CLR = {
  object: 'System.Object',
  objects: 'System.Object[]',
  string: 'System.String',
  strings: 'System.String[]',
  bool: 'System.Boolean',
  switch: 'System.Management.Automation.SwitchParameter',
  dateTime: 'System.DateTime',
  guid: 'System.Guid',
  secureString: 'System.Security.SecureString',
  unlimited: 'Microsoft.Exchange.Management.RestApiClient.Unlimited`1[System.UInt32]',
  multiValued: 'Microsoft.Exchange.Data.MultiValuedProperty`1[System.String]',
} as const;

/**
 * A bound [DateTime]: the instant, and its Kind as PowerShell would have it. `{ "$dateTimeUtc": ... }`
 * binds as Kind Utc (src/exchange/utc-date-time.ts); a string or a number as PowerShell converts it,
 * Kind Local: the host's wall-clock time of that instant.
 */
export interface BoundDateTime {
  instant: Date;
  kind: 'Utc' | 'Local';
}

export type BoundValue = string | string[] | boolean | null | Date | number | BoundDateTime | PsValue;

export interface BoundParameters {
  /** Canonical parameter name → converted value; a key is present only when the caller passed it. */
  values: Map<string, BoundValue>;
  /** ErrorAction as passed (canonical case), default "Continue". */
  errorAction: string;
  warningAction: string;
}

/** ResultSize "Unlimited" is represented as Infinity. */
export const UNLIMITED = Number.POSITIVE_INFINITY;

export function bindParameters(cmdlet: string, specs: readonly ParameterSpec[], parameters: CmdletParameters): BoundParameters {
  const all = [...specs, ...COMMON];
  const values = new Map<string, BoundValue>();
  for (const [given, raw] of Object.entries(parameters)) {
    const spec = resolveName(cmdlet, all, given);
    values.set(spec.name, convert(cmdlet, spec, raw));
  }
  const missing = specs.filter((s) => s.mandatory && !values.has(s.name)).map((s) => s.name);
  if (missing.length > 0) throw new CmdletFailure(cmdlet, missingMandatoryParameters(cmdlet, missing));
  return {
    values,
    errorAction: actionPreference(values.get('ErrorAction')),
    warningAction: actionPreference(values.get('WarningAction')),
  };
}

function resolveName(cmdlet: string, specs: ParameterSpec[], given: string): ParameterSpec {
  const lower = given.toLowerCase();
  const exact = specs.find((s) => s.name.toLowerCase() === lower);
  if (exact) return exact;
  const prefixed = specs.filter((s) => s.name.toLowerCase().startsWith(lower));
  if (prefixed.length === 1 && lower.length > 0) return prefixed[0]!;
  if (prefixed.length > 1 && lower.length > 0) {
    throw new CmdletFailure(cmdlet, ambiguousParameter(cmdlet, given, prefixed.map((s) => s.name)));
  }
  throw new CmdletFailure(cmdlet, parameterNotFound(cmdlet, given));
}

function actionPreference(value: BoundValue | undefined): string {
  if (typeof value !== 'string') return 'Continue';
  const known = ['Stop', 'Continue', 'SilentlyContinue', 'Ignore', 'Inquire', 'Suspend', 'Break'];
  return known.find((k) => k.toLowerCase() === value.toLowerCase()) ?? 'Continue';
}

function convert(cmdlet: string, spec: ParameterSpec, raw: PsValue): BoundValue {
  const fail = (detail: string): never => {
    throw new CmdletFailure(cmdlet, argumentTransformation(cmdlet, spec.name, detail));
  };
  switch (spec.type) {
    case 'any':
      return raw;
    case 'string':
      if (raw === null) return null;
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string') return raw[0];
      return fail(`Cannot convert the value to type "System.String".`);
    case 'string[]': {
      const list = Array.isArray(raw) ? raw : [raw];
      return list.map((item) => (typeof item === 'string' || typeof item === 'number' ? String(item) : fail('Cannot convert the value to type "System.String[]".')));
    }
    case 'bool':
    case 'switch':
    case 'nullable-bool':
      if (raw === null) {
        if (spec.type === 'nullable-bool') return null;
        if (spec.type === 'switch') return true;
        return fail(
          'Cannot convert value "" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.',
        );
      }
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'number') return raw !== 0;
      return fail(
        `Cannot convert value "${String(raw)}" to type "System.Boolean". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.`,
      );
    case 'guid': {
      const text = typeof raw === 'string' ? raw.trim().replace(/^\{(.*)\}$/, '$1') : '';
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) {
        return fail(`Cannot convert value "${String(raw)}" to type "System.Guid". Error: "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."`);
      }
      return text.toLowerCase();
    }
    case 'date': {
      const utc = utcDateTimeOf(raw);
      const time = utc !== null ? new Date(utc) : typeof raw === 'string' || typeof raw === 'number' ? new Date(raw) : null;
      if (!time || Number.isNaN(time.getTime())) return fail(`Cannot convert value "${String(utc ?? raw)}" to type "System.DateTime".`);
      return { instant: time, kind: utc !== null ? 'Utc' : 'Local' } satisfies BoundDateTime;
    }
    case 'result-size': {
      if (typeof raw === 'string' && raw.toLowerCase() === 'unlimited') return UNLIMITED;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isInteger(n) || n < 1) {
        return fail(`Cannot convert value "${String(raw)}" to type "Microsoft.Exchange.Data.Unlimited\`1[System.UInt32]". Use a positive number or "Unlimited".`);
      }
      return n;
    }
  }
}
