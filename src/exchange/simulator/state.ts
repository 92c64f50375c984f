/**
 * The simulated tenant's state file (documented in docs/STATE-FILE.md). The in-process simulator and
 * the stub ExchangeOnlineManagement PowerShell module (test/fixtures/modules) read and write this same
 * format, so a conformance test can compare the files they leave behind.
 *
 * Property names follow the Exchange objects they model (PascalCase) where a cmdlet returns them.
 */

export type TriState = true | false | null;

export interface SimMailbox {
  /** Stable id (Guid string). */
  Guid: string;
  /** The mailbox's Name / Identity, e.g. "j.doe". */
  Name: string;
  DisplayName: string;
  Alias: string;
  PrimarySmtpAddress: string;
  UserPrincipalName: string;
  /** Proxy addresses as Exchange lists them: "SMTP:primary@x" and "smtp:alias@x". */
  EmailAddresses: string[];
  /** UserMailbox, SharedMailbox, RoomMailbox, EquipmentMailbox. */
  RecipientTypeDetails: string;
  /** The tri-state SMTP AUTH switch: true off, false on, null follows the organization. */
  SmtpClientAuthenticationDisabled: TriState;
  /** Name of the user's own authentication policy, or null (the organization default applies). */
  AuthenticationPolicy: string | null;
}

export interface SimAuthenticationPolicy {
  Name: string;
  AllowBasicAuthSmtp: boolean;
}

export type HistoricalSearchStatus = 'NotStarted' | 'InProgress' | 'Done' | 'Cancelled' | 'Failed';

export interface SimHistoricalSearch {
  JobId: string;
  ReportTitle: string;
  ReportType: string;
  Status: HistoricalSearchStatus;
  /** ISO-8601 UTC */
  SubmitDate: string;
  StartDate: string;
  EndDate: string;
  NotifyAddress: string[];
  JobProgress: number;
  Rows: number;
  ReportStatusDescription: string;
  /** Simulated time: how many more Get-HistoricalSearch reads of this job until it is Done. */
  PollsRemaining: number;
}

export interface SimSmtpAuthActivity {
  /** Sender address as the SMTP AUTH clients report shows it. */
  sender: string;
  protocol: 'Basic' | 'OAuth';
  messages: number;
  /** ISO-8601 UTC */
  lastSeen: string;
}

/** Knobs that make the simulated service misbehave on purpose (all optional, default off). Calls are
 * counted per session (per process for the stub), from 1. */
export interface SimFaults {
  /** Milliseconds added to every call. */
  latencyMs?: number;
  /** Every Nth call fails with the throttling error text (then succeeds when retried). */
  throttleEveryN?: number;
  /** Every Nth call fails with a transient "Server Busy" error. */
  transientEveryN?: number;
  /** The Nth call crashes the session (pwsh: the process exits; simulator: SessionError). */
  crashOnCall?: number;
}

export interface TenantState {
  schemaVersion: 1;
  organization: {
    /** contoso.onmicrosoft.com */
    Name: string;
    /** The server name used in error texts, e.g. "DM6PR11MB1234.PROD.OUTLOOK.COM" */
    Server: string;
    /** The tenant id (a GUID); Connect-ExchangeOnline -Organization accepts it as well as Name. Optional. */
    TenantId?: string;
  };
  transportConfig: {
    SmtpClientAuthenticationDisabled: boolean;
  };
  organizationConfig: {
    DefaultAuthenticationPolicy: string | null;
  };
  authenticationPolicies: SimAuthenticationPolicy[];
  mailboxes: SimMailbox[];
  historicalSearches: SimHistoricalSearch[];
  smtpAuthActivity: SimSmtpAuthActivity[];
  /** The simulated clock (ISO-8601 UTC); null means the real clock. */
  clock: string | null;
  /** How many Get-HistoricalSearch reads a new job takes to reach Done. */
  historicalSearchPolls: number;
  faults: SimFaults;
}
