/** What a simulated cmdlet sees while it runs, and the shape every cmdlet definition has. */
import { CmdletFailure, type CmdletErrorRecord, type PsObject } from '../../session.js';
import type { BoundParameters, ParameterSpec } from '../parameters.js';
import type { TenantChange } from '../change-log.js';
import type { Tenant } from '../tenant.js';

export interface CmdletContext {
  readonly cmdlet: string;
  readonly tenant: Tenant;
  readonly parameters: BoundParameters;
  now(): Date;
  warn(message: string): void;
  /** A non-terminating error: collected, or thrown when the caller asked for -ErrorAction Stop. */
  writeError(record: CmdletErrorRecord): void;
  /** The tenant changed: the session logs the change (change-log.ts) before the call returns. */
  changed(change: TenantChange): void;
}

export interface CmdletDefinition {
  /** Exactly the real cmdlet's parameters that the simulation models (names and .NET types), common ones aside. */
  parameters: readonly ParameterSpec[];
  /** Yields output objects lazily so bulk reads stream. */
  run(context: CmdletContext): Iterable<PsObject>;
}

export function fail(context: CmdletContext, record: CmdletErrorRecord): never {
  throw new CmdletFailure(context.cmdlet, record);
}

export function stringParameter(context: CmdletContext, name: string): string | undefined {
  const value = context.parameters.values.get(name);
  return typeof value === 'string' ? value : undefined;
}

/** What a cmdlet that writes no objects returns. */
export const NO_OUTPUT: readonly never[] = [];
