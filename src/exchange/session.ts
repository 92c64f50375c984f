/**
 * The one interface every Exchange Online backend implements (real pwsh + ExchangeOnlineManagement,
 * real pwsh + the stub module, or the in-process simulator). Only the engine's observe and apply
 * phases call it.
 */

/** A value that crosses the session boundary. `null` is PowerShell's $null (the tri-state switch needs it). */
export type PsValue = null | boolean | number | string | PsValue[] | { [key: string]: PsValue };

/** Parameters of one cmdlet call, bound by name (never pasted into script text). */
export type CmdletParameters = Record<string, PsValue>;

/** One output object of a cmdlet, as plain data (property name → value; dates as ISO-8601 strings). */
export type PsObject = Record<string, PsValue>;

import { SessionError } from '../errors.js';
import { describeServiceError } from './service-error.js';

/** A PowerShell error record, as data. */
export interface CmdletErrorRecord {
  /** e.g. "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException" */
  exceptionType: string;
  /** e.g. "Ex6F9304,Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox" */
  fullyQualifiedErrorId: string;
  message: string;
  /** The service's error code when the module gave one (`Ex6F9304|<type>|<text>`); absent for the empty-code form. */
  code?: string;
  /** The object the error is about, when the cmdlet says. */
  target?: string | null;
  /** PowerShell's ErrorCategory name, e.g. "NotSpecified", "ObjectNotFound". */
  category?: string;
}

export interface InvokeOptions {
  /** Per-call timeout; the call fails with SessionError (pwsh: the host is restarted). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * stream() only: the read may start over from its first object (a throttled or lost bulk read is
   * retried as a fresh, complete read). Called before the objects of the new attempt arrive: drop
   * everything collected so far. Without it, a read that fails after yielding objects is not retried.
   */
  onRestart?: () => void;
  /** Called for each warning as it arrives (e.g. "no settings ... have been modified"). */
  onWarning?: (message: string) => void;
  /** Parameter names whose values must never be logged or shown (e.g. AccessToken). */
  secretParameters?: readonly string[];
  /**
   * The only properties the caller reads from each object: the pwsh bridge converts just these (a
   * bulk read's cost is per converted property); other backends may return more.
   */
  select?: readonly string[];
}

/** The outcome of a call that did not fail terminally. */
export interface InvokeResult {
  objects: PsObject[];
  warnings: string[];
  /** Non-terminating errors (e.g. Get-CASMailbox for a missing identity without -ErrorAction Stop). */
  errors: CmdletErrorRecord[];
}

/** A terminating cmdlet failure (the cmdlet threw, or ErrorAction Stop turned an error terminal). */
export class CmdletFailure extends Error {
  constructor(
    readonly cmdlet: string,
    readonly record: CmdletErrorRecord,
  ) {
    super(`${cmdlet}: ${describeServiceError(record)}`);
    this.name = 'CmdletFailure';
  }
}

/**
 * The result of a call that must not have failed: any error record (non-terminating, as the v3
 * cmdlets report most failures) becomes a CmdletFailure, so a failed read is never taken for a state.
 */
export function withoutErrors(cmdlet: string, result: InvokeResult): InvokeResult {
  const first = result.errors[0];
  if (first) throw new CmdletFailure(cmdlet, first);
  return result;
}

/**
 * The session lost the call: the PowerShell host died (or the simulated one crashed) while the call
 * ran, and the next call starts a fresh one. A read may be retried; a write's outcome is unknown.
 */
export class SessionLost extends SessionError {}

export interface ExchangeSession {
  /** "pwsh" or "simulator": shown in plans and journals. */
  readonly kind: 'pwsh' | 'simulator';
  /** Run a cmdlet and collect everything. Throws CmdletFailure on a terminating error, SessionError on transport failure. */
  invoke(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): Promise<InvokeResult>;
  /**
   * Run a cmdlet and yield its output objects as they arrive, without holding them all in memory.
   * Warnings go to options.onWarning; non-terminating errors are thrown as CmdletFailure at the end
   * (the first one; a bulk read cut off mid-stream ends that way after the objects it did yield).
   */
  stream(cmdlet: string, parameters?: CmdletParameters, options?: InvokeOptions): AsyncIterable<PsObject>;
  /** Disconnect and release the process or file. Idempotent. */
  close(): Promise<void>;
  /**
   * The tenant's clock, when it is not the real one (a simulated tenant with state.clock set).
   * Actions date search windows, quota counts and job reuse by it, so they agree with the tenant.
   */
  now?(): Date;
}

/** The `now` of a session, for wrappers to pass through (nothing when the session has none). */
export function clockOf(session: ExchangeSession): Pick<ExchangeSession, 'now'> {
  return session.now ? { now: () => session.now!() } : {};
}

/** The cmdlets any session may run. The pwsh host enforces its own copy of this list. */
export const ALLOWED_CMDLETS = [
  'Connect-ExchangeOnline',
  'Disconnect-ExchangeOnline',
  'Get-TransportConfig',
  'Set-TransportConfig',
  'Get-CASMailbox',
  'Get-EXOCASMailbox',
  'Set-CASMailbox',
  'Get-Mailbox',
  'Get-EXOMailbox',
  'Start-HistoricalSearch',
  'Get-HistoricalSearch',
  'Stop-HistoricalSearch',
  'Get-AuthenticationPolicy',
  'Get-OrganizationConfig',
  'Get-User',
  // OAuth senders (smtp-auth/oauth-senders): service principals, RBAC for Applications, mailbox permissions.
  'New-ServicePrincipal',
  'Get-ServicePrincipal',
  'Remove-ServicePrincipal',
  'New-ManagementScope',
  'Get-ManagementScope',
  'Remove-ManagementScope',
  'New-ManagementRoleAssignment',
  'Get-ManagementRoleAssignment',
  'Remove-ManagementRoleAssignment',
  'Add-MailboxPermission',
  'Get-MailboxPermission',
  'Remove-MailboxPermission',
] as const;
export type AllowedCmdlet = (typeof ALLOWED_CMDLETS)[number];

/** Cmdlets that change the tenant. */
export function isWriteCmdlet(cmdlet: string): boolean {
  return !/^Get-/i.test(cmdlet);
}
