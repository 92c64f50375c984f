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
  /** Milliseconds added to calls of the named cmdlets instead of latencyMs (e.g. a slow Connect-ExchangeOnline sign-in). */
  latencyByCmdlet?: Record<string, number>;
  /** Milliseconds of pause after every 500 objects a cmdlet streams (a slow bulk read, as a large tenant pages). Simulator only. */
  streamDelayMs?: number;
  /** Every Nth call fails with the throttling error text (then succeeds when retried). */
  throttleEveryN?: number;
  /** Every Nth call fails with a transient "Server Busy" error. */
  transientEveryN?: number;
  /** The Nth call crashes the session (pwsh: the process exits; simulator: SessionError). */
  crashOnCall?: number;
  /** The Nth call runs and its change is saved, then the session dies before it answers (a reply lost
   * after Exchange committed the write). Only a call that changed the tenant dies this way. */
  crashAfterCall?: number;
}

export interface TenantState {
  schemaVersion: 1;
  organization: {
    /** contoso.onmicrosoft.com */
    Name: string;
    /** The server name used in error texts, e.g. "DM6PR11MB1234.PROD.OUTLOOK.COM" */
    Server: string;
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
  /** How the tenant answers SMTP AUTH probes (smtp-auth/probe, `probe`); absent: defaults below. */
  smtp?: SimSmtpService;
}

/**
 * What a device meets at smtp.office365.com:587 beyond the SMTP AUTH switches and authentication
 * policies (which come from the rest of the state). docs/STATE-FILE.md "SMTP probes" says how the
 * simulator combines them. Optional in the file; nothing in it is ever written by a cmdlet.
 */
export interface SimSmtpService {
  /** Entra security defaults on: Basic sign-ins are refused ("basic authentication is disabled"). */
  securityDefaults?: boolean;
  /** A Conditional Access policy blocks legacy authentication for every user but these (addresses). */
  conditionalAccessBlocksLegacyAuth?: boolean;
  conditionalAccessExclusions?: string[];
  /** Microsoft's default change (end of December 2026): Basic SMTP AUTH off by default for this tenant. */
  basicAuthDefaultOff?: boolean;
  /** Basic authentication for client submission removed: 550 5.7.30. */
  basicAuthRetired?: boolean;
  /** sha256 (hex) of a canary's password, by address (lower case). Mailboxes not listed accept any non-empty password. */
  canaryPasswordSha256?: Record<string, string>;
  /** A network fault every probe meets. */
  fault?: 'timeout' | 'connection-refused' | 'tls-failure' | null;
  /** The front-end server named in reply trailers. */
  server?: string;
}
