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
  /** Optional detail for the request-report export (sim export-usage): when it started, from where, which TLS. */
  firstSeen?: string;
  clientIp?: string;
  /** "TLS 1.0", "TLS 1.1", "TLS 1.2" (default "TLS 1.2"). */
  tlsVersion?: string;
}

/**
 * One Entra sign-in record as Graph's signIn resource has it (the fields the usage step reads):
 * https://learn.microsoft.com/en-us/graph/api/resources/signin. Only Basic-auth SMTP sign-ins
 * ("Authenticated SMTP") are simulated.
 */
export interface SimSignIn {
  id: string;
  /** ISO-8601 UTC */
  createdDateTime: string;
  userPrincipalName: string;
  clientAppUsed: string;
  ipAddress: string;
  /** errorCode 0 is success; e.g. 50126 wrong credentials, 50057 disabled account. */
  status: { errorCode: number; failureReason: string | null };
}

/** What the simulated tenant answers through Microsoft Graph (optional: absent = no Graph data). */
export interface SimGraph {
  signIns: SimSignIn[];
  /** false: the sign-in logs API answers the licence error (no Entra ID P1/P2). Default true. */
  entraPremium?: boolean;
  /** true: usage reports conceal user names (adminReportSettings.displayConcealedNames). Default false. */
  concealedNames?: boolean;
  /** Throttle the Nth Graph request with 429 + Retry-After 1 (simulation knob). */
  throttleRequest?: number;
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
  /** Microsoft Graph's view of the tenant (sign-in logs, report settings); optional. */
  graph?: SimGraph;
  /** The simulated clock (ISO-8601 UTC); null means the real clock. */
  clock: string | null;
  /** How many Get-HistoricalSearch reads a new job takes to reach Done. */
  historicalSearchPolls: number;
  faults: SimFaults;
}
