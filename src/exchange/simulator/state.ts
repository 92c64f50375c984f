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
  /** Where a Done search's CSV is downloaded; absent or null before. */
  FileUrl?: string | null;
  /** Simulated time: how many more Get-HistoricalSearch reads of this job until it is Done. */
  PollsRemaining: number;
}

export interface SimHistoricalSearchService {
  /** Report types the service does not take from PowerShell (e.g. the undocumented SmtpCSReport). */
  rejectReportTypes?: string[];
  /** Report types refused without one of MessageID, RecipientAddress or SenderAddress. */
  addressRequiredFor?: string[];
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
  /** Milliseconds added to calls of the named cmdlets instead of latencyMs (e.g. a slow Connect-ExchangeOnline sign-in). */
  latencyByCmdlet?: Record<string, number>;
  /** Milliseconds of pause after every 500 objects a cmdlet streams (a slow bulk read, as a large tenant pages). Simulator only. */
  streamDelayMs?: number;
  /** Every Nth call fails with the throttling error text (then succeeds when retried). */
  throttleEveryN?: number;
  /** Every Nth call fails with a transient "Server Busy" error. */
  transientEveryN?: number;
  /** The Nth call crashes the session (pwsh: the process exits; simulator: SessionLost). */
  crashOnCall?: number;
  /** The Nth call runs and its change is saved, then the session dies before it answers (a reply lost
   * after Exchange committed the write). Only a call that changed the tenant dies this way. */
  crashAfterCall?: number;
  /** Service errors in the shapes the v3 cmdlets give them, as non-terminating error records. */
  errors?: SimErrorFault[];
}

/**
 * One service error a cmdlet reports as a NON-terminating error record (what the v3 module does for
 * most failures; -ErrorAction Stop makes it terminating). A write so failed changes nothing.
 */
export interface SimErrorFault {
  /** The cmdlet that fails (case-insensitive). */
  cmdlet: string;
  /**
   * not-found: `Ex6F9304|...ManagementObjectNotFoundException|...couldn't be found...`;
   * recipient-task: the empty-code `|Microsoft.Exchange.Management.Tasks.RecipientTaskException|<message>`;
   * rest: `Error while querying REST service. HttpStatusCode=<httpStatus> ErrorMessage={...}` (RestClientException, ProtocolError).
   */
  shape: 'not-found' | 'recipient-task' | 'rest';
  /** The service's text (not-found: the object name instead defaults to the call's identity). */
  message?: string;
  /** rest: the HTTP status (default 500; 429 and 503 are throttling). */
  httpStatus?: number;
  /** Bulk reads: the error comes after this many objects, and the read stops there (cut off mid-stream). */
  afterObjects?: number;
  /** Only the first N matching calls fail (counted per session, per process for the stub); default every one. */
  times?: number;
  /** Simulator only: calls numbered before this one are not affected (e.g. fail a read-back, not the observe before it). */
  fromCall?: number;
}

/**
 * An Exchange Online service principal: Exchange's reference to an Entra service principal
 * (New-ServicePrincipal, https://learn.microsoft.com/powershell/module/exchange/new-serviceprincipal).
 * ObjectId is the Enterprise application's object id; the simulated Identity is the ObjectId.
 */
export interface SimServicePrincipal {
  AppId: string;
  ObjectId: string;
  DisplayName: string;
}

/** A recipient management scope (New-ManagementScope -RecipientRestrictionFilter). */
export interface SimManagementScope {
  Name: string;
  RecipientRestrictionFilter: string;
}

/**
 * A management role assignment to an app (RBAC for Applications: New-ManagementRoleAssignment -App
 * -Role -CustomResourceScope, https://learn.microsoft.com/exchange/permissions-exo/application-rbac).
 */
export interface SimManagementRoleAssignment {
  Name: string;
  /** e.g. "Application SMTP.SendAsApp". */
  Role: string;
  /** The service principal's ObjectId. */
  App: string;
  /** The scope's Name, or null for an organization-wide assignment. */
  CustomResourceScope: string | null;
}

/** One explicit mailbox permission (Add-MailboxPermission -User -AccessRights). */
export interface SimMailboxPermission {
  /** The mailbox's Guid. */
  Mailbox: string;
  /** The trustee: a service principal's ObjectId (the simulation models app trustees only). */
  User: string;
  AccessRights: string[];
}

/**
 * Microsoft Entra's side of an app (never written by a cmdlet): what New-ServicePrincipal checks an
 * object id against, and what the loopback token endpoint and the SMTP fake know.
 */
export interface SimEntraApplication {
  appId: string;
  /** The Enterprise application (service principal) object id: what New-ServicePrincipal -ObjectId needs. */
  servicePrincipalObjectId: string;
  /** The app registration's object id: the classic mistake when given to New-ServicePrincipal. */
  applicationObjectId?: string;
  displayName: string;
  /** sha256 (hex) of the client secret the token endpoint accepts. */
  clientSecretSha256?: string;
  /** The application permission SMTP.SendAsApp with admin consent (needed by the mailbox-permission route). */
  smtpSendAsAppConsented?: boolean;
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
  /** Microsoft Graph's view of the tenant (sign-in logs, report settings); optional. */
  graph?: SimGraph;
  /** The simulated clock (ISO-8601 UTC); null means the real clock. */
  clock: string | null;
  /** How many Get-HistoricalSearch reads a new job takes to reach Done. */
  historicalSearchPolls: number;
  /**
   * Refusals Start-HistoricalSearch makes in this tenant (docs/STATE-FILE.md). Optional; absent: it
   * accepts every type in its list, SmtpCSReport included, with no address.
   */
  historicalSearchService?: SimHistoricalSearchService;
  faults: SimFaults;
  /** How the tenant answers SMTP AUTH probes (smtp-auth/probe, `probe`); absent: defaults below. */
  smtp?: SimSmtpService;
  /** Exchange service principals, management scopes, role assignments to apps, mailbox permissions (optional). */
  servicePrincipals?: SimServicePrincipal[];
  managementScopes?: SimManagementScope[];
  managementRoleAssignments?: SimManagementRoleAssignment[];
  mailboxPermissions?: SimMailboxPermission[];
  /** Microsoft Entra's apps (read-only for cmdlets); optional. */
  entra?: { applications: SimEntraApplication[] };
}

/**
 * What a device meets at smtp.office365.com:587 beyond the SMTP AUTH switches and authentication
 * policies (which come from the rest of the state). docs/STATE-FILE.md "SMTP probes" says how the
 * simulator combines them. Optional in the file; nothing in it is ever written by a cmdlet.
 */
export interface SimSmtpService {
  /** Entra security defaults on: Basic sign-ins are refused ("user is locked by your organization's security defaults policy"). */
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
  /** The mechanisms EHLO advertises after STARTTLS; absent: LOGIN and XOAUTH2, as smtp.office365.com. */
  authMechanisms?: string[];
  /** A network fault every probe meets. */
  fault?: 'timeout' | 'connection-refused' | 'tls-failure' | null;
  /** The front-end server named in reply trailers. */
  server?: string;
}
