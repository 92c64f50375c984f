/**
 * The playbook language v1, one source of truth: the loader validates with it, scripts/schema.ts
 * generates playbooks/playbook.schema.json from it, and docs/PLAYBOOKS.md is written from it.
 *
 * The schema describes a playbook after ${...} references are resolved. The generated JSON schema
 * additionally accepts a reference string wherever a value may come from one (see scripts/schema.ts).
 */
import { z } from 'zod';
import { PROBE_OUTCOMES } from '../smtp/classify.js';

/** `${env:NAME}`, `${vars.name}`, `${file:relative/path}`, and in a fleet run `${tenant.id}`, `${tenant.vars.NAME}`, … */
export const REFERENCE_PATTERN = /\$\{(env:[A-Za-z_][A-Za-z0-9_]*|vars\.[A-Za-z_][A-Za-z0-9_]*|file:[^}]+|tenant\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_-]*)?)\}/;
/** A value that is exactly one secret reference: secrets never appear inline. */
export const SECRET_REFERENCE_PATTERN = /^\$\{(env:[A-Za-z_][A-Za-z0-9_]*|file:[^}]+)\}$/;

const id = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes, starting with a letter');

/** Checked for syntax and hostile characters by the loader's semantic pass (it knows positions). */
export const smtpAddress = z.string().min(1).max(320);

const duration = z.number().int().positive();

// ---------------------------------------------------------------------------------------------
// tenant.auth: how the runner signs in. Secrets (certificatePassword, token) are raw references in
// the playbook as written; the loader checks that, and resolves them only when connecting.
const signIn = z
  .enum(['module', 'token'])
  .describe(
    'module: Connect-ExchangeOnline signs in itself; token: @azure/identity gets an access token that is passed with -AccessToken.',
  );

export const authSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('certificate'),
    appId: z.string().min(1).describe('Application (client) id of the app registration.'),
    certificatePath: z
      .string()
      .min(1)
      .describe('Path to the certificate with its private key: a PEM file (token sign-in) or a .pfx/.p12 file (module sign-in).'),
    certificatePassword: z.string().optional().describe('A reference (${env:NAME}) to the certificate password.'),
    signIn: signIn
      .optional()
      .describe(
        'Default: token for a PEM file, module for a .pfx/.p12 file. Connect-ExchangeOnline -CertificateFilePath loads a PEM without its private key, so module sign-in needs a .pfx; token sign-in (@azure/identity) needs a PEM.',
      ),
  }),
  // Windows only: the certificate stays in the Windows certificate store (private key not exportable),
  // found by thumbprint and passed to Connect-ExchangeOnline -Certificate (src/exchange/connect/module-sign-in.ts).
  z.strictObject({
    method: z.literal('certificate-thumbprint'),
    appId: z.string().min(1).describe('Application (client) id of the app registration.'),
    thumbprint: z
      .string()
      .regex(/^[0-9A-Fa-f]{40}$/, 'a certificate thumbprint is 40 hexadecimal characters (SHA-1), without spaces')
      .describe('Thumbprint of the certificate in the Windows certificate store (Cert:\\<store>\\My), with its private key. Windows only.'),
    store: z
      .enum(['CurrentUser', 'LocalMachine'])
      .default('CurrentUser')
      .describe('CurrentUser: the account that runs exo-playbook; LocalMachine: the computer (the account needs read access to the private key).'),
  }),
  z.strictObject({
    method: z.literal('managed-identity'),
    clientId: z.string().optional().describe('Client id of a user-assigned managed identity.'),
    signIn: signIn.default('module'),
  }),
  z.strictObject({
    method: z.literal('device-code'),
    clientId: z.string().optional().describe('Public client id for the device login (token sign-in only).'),
    signIn: signIn.default('module'),
  }),
  z.strictObject({
    method: z.literal('azure-cli'),
  }),
  z.strictObject({
    method: z.literal('workload-identity'),
    appId: z.string().min(1).describe('Application (client) id of the app registration that has a federated identity credential for this workload (e.g. GitHub Actions OIDC).'),
    tenantId: z.string().optional().describe('Directory (tenant) id or domain of the app registration; default tenant.organization.'),
    tokenFile: z
      .string()
      .optional()
      .describe('File holding the federated token (relative to the playbook); default $AZURE_FEDERATED_TOKEN_FILE, else the GitHub Actions OIDC endpoint of the job.'),
  }),
  // Partners (GDAP / Secure Application Model): the partner's multi-tenant app, consented in each
  // customer tenant, gets an app-only token from the customer's tenant and signs in with
  // Connect-ExchangeOnline -AccessToken -DelegatedOrganization (src/exchange/connect/partner.ts).
  z.strictObject({
    method: z.literal('partner'),
    appId: z.string().min(1).describe("Application (client) id of the partner's multi-tenant app, consented in every customer tenant."),
    certificatePath: z
      .string()
      .min(1)
      .optional()
      .describe("A PEM file with the app's certificate and its private key (relative to the playbook). Give this or clientSecret."),
    certificatePassword: z.string().optional().describe('A reference (${env:NAME}) to the password of an encrypted private key in certificatePath.'),
    clientSecret: z.string().optional().describe("A reference (${env:NAME} or ${file:path}) to the app's client secret. Give this or certificatePath."),
    customerTenantId: z
      .string()
      .optional()
      .describe("The customer's tenant id (GUID) the token is asked from; default the fleet tenant's tenantId, else tenant.organization."),
  }).superRefine((value, ctx) => {
    // One credential of the app: two would leave the reader guessing which one signs in.
    if ((value.certificatePath === undefined) === (value.clientSecret === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['certificatePath'], message: 'a partner sign-in needs exactly one of certificatePath (a PEM) and clientSecret: "${env:NAME}"' });
    }
    if (value.certificatePassword !== undefined && value.certificatePath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['certificatePassword'], message: 'certificatePassword goes with certificatePath' });
    }
  }),
  z.strictObject({
    method: z.literal('access-token'),
    token: z.string().describe('A reference (${env:NAME} or ${file:path}) to an app-only access token.'),
    graphToken: z
      .string()
      .optional()
      .describe('A reference to a separate app-only token for Microsoft Graph (audience graph.microsoft.com), for the usage step\'s Graph sources.'),
  }),
]);
export type AuthConfig = z.infer<typeof authSchema>;

/** A PKCS#12 file by its name: the only certificate file Connect-ExchangeOnline -CertificateFilePath signs in with. */
export const PFX_FILE = /\.(pfx|p12)$/i;

/**
 * How a certificate signs in when the playbook does not say: the module with a .pfx/.p12 file, a
 * token from @azure/identity with anything else (a PEM): the module loads a PEM without its key.
 */
export function certificateSignIn(auth: { certificatePath: string; signIn?: 'module' | 'token' | undefined }): 'module' | 'token' {
  return auth.signIn ?? (PFX_FILE.test(auth.certificatePath) ? 'module' : 'token');
}

// ---------------------------------------------------------------------------------------------
// Per-action `with` blocks.
export const transportConfigWith = z.strictObject({
  smtpClientAuthenticationDisabled: z
    .boolean()
    .describe('true turns SMTP AUTH off for the organization (Set-TransportConfig).'),
});

export const usageWith = z.strictObject({
  report: z
    .string()
    .optional()
    .describe('Path to an "SMTP AUTH clients report" CSV exported from the admin center (UTF-8 or UTF-16, comma or semicolon). When any source is set, no search is submitted.'),
  requestReport: z
    .string()
    .optional()
    .describe('Path to the historical search\'s downloaded request report ("SmtpCSReport" CSV, UTF-16, one row per message).'),
  signInLogs: z
    .union([z.literal(true), z.strictObject({ days: z.number().int().min(1).max(30).default(30).describe('Days back (sign-in logs are kept 30 days).') })])
    .optional()
    .describe('Read Entra sign-in logs through Microsoft Graph (clientAppUsed "Authenticated SMTP"; Basic sign-ins only). Needs AuditLog.Read.All, Directory.Read.All and Entra ID P1/P2.'),
  emailAppUsage: z
    .union([z.literal(true), z.strictObject({ period: z.enum(['D7', 'D30', 'D90', 'D180']).default('D180').describe('The report period.') })])
    .optional()
    .describe('Read Graph\'s email app usage report ("SMTP App" column; no auth type, no counts). Needs Reports.Read.All.'),
  exportedAt: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/, 'must be an ISO date (2026-11-23) or date-time with a zone (2026-11-23T09:00Z)')
    .optional()
    .describe("When the `report:` file was exported from the admin center (the report has no date column). Without it, the file's modification time stands in, and the plan says so."),
  periodDays: z
    .number()
    .int()
    .min(1)
    .max(90)
    .optional()
    .describe('The period chosen when exporting the `report:` file (the admin center offers 7 days by default, up to 90). Default 7.'),
  maxAgeDays: z
    .number()
    .int()
    .min(0)
    .max(90)
    .default(7)
    .describe("The lockout guard counts a source only when its period ends at most this many days before the run; older evidence is refused (exit 4) unless acceptStaleEvidence names it."),
  acceptStaleEvidence: z
    .array(
      z.strictObject({
        source: z
          .enum(['report', 'requestReport', 'signInLogs', 'emailAppUsage', 'history'])
          .describe("The source of this step that may be older than maxAgeDays (history: the earlier run's saved readings)."),
        reason: z.string().trim().min(10).max(500).describe('Why the older evidence is still good enough (a reviewer reads it).'),
      }),
    )
    .default([])
    .describe('Sources of this step whose period ended more than maxAgeDays before the run, accepted by name with a reason.'),
  history: z
    .string()
    .optional()
    .describe('A file (relative to the playbook) where `verify` records the senders it saw; the next run reports senders not seen before, and a plan warns about senders an earlier run saw that its evidence lacks.'),
  days: z.number().int().min(1).max(90).default(7).describe('How many days back the historical search covers (1-90).'),
  reportType: z
    .string()
    .default('SmtpCSReport')
    .describe("Start-HistoricalSearch -ReportType. SmtpCSReport is not in Microsoft's documented list: if the service refuses it, the step fails here with Microsoft's text."),
  reportTitle: z.string().min(1).max(128).default('SMTPBasicAuth_Audit').describe('Start-HistoricalSearch -ReportTitle.'),
  notifyAddress: z.union([smtpAddress, z.array(smtpAddress).max(10)]).optional().describe('Who receives the report by mail.'),
  wait: z.boolean().default(true).describe('Poll Get-HistoricalSearch until the job ends; false records the JobId and moves on.'),
  timeoutMinutes: duration.max(1440).default(240).describe('How long to poll before giving up.'),
  pollSeconds: z
    .number()
    .int()
    .min(1)
    .max(600)
    .default(30)
    .describe('Seconds before the first Get-HistoricalSearch poll; each later wait doubles, up to 10 minutes.'),
  reuseHours: z.number().int().min(0).max(240).default(24).describe('Reuse a matching job submitted this recently instead of spending quota.'),
});

export const allowlistWith = z.strictObject({
  mailboxes: z.array(smtpAddress).describe('Mailboxes that keep SMTP AUTH (address, alias or UPN).'),
  exclusive: z
    .boolean()
    .default(false)
    .describe('true: no other mailbox keeps an explicit $false; those are set to $null (inherit).'),
  explicitDisabled: z
    .enum(['keep', 'inherit'])
    .default('keep')
    .describe('What to do with explicit $true on other mailboxes (harmless but noise): keep them, or reset to $null.'),
});

export const verifyWith = z.strictObject({
  mailboxes: z
    .array(smtpAddress)
    .optional()
    .describe("Mailboxes that must be effectively on. Default: the playbook's smtp-auth/allowlist steps."),
  checkAuthenticationPolicies: z
    .boolean()
    .default(true)
    .describe('Flag allowlisted mailboxes whose authentication policy blocks Basic SMTP AUTH.'),
});

/** What a probe may be expected to find (`unknown` never is: an unknown answer always fails). */
export const probeExpectation = z.enum(PROBE_OUTCOMES.filter((o) => o !== 'unknown') as [string, ...string[]]);

export const probeWith = z
  .strictObject({
    mailbox: smtpAddress.describe('The canary mailbox the probe signs in as (its user principal name). Use a mailbox with no other purpose.'),
    auth: z
      .enum(['basic', 'basic-plain', 'oauth'])
      .default('basic')
      .describe('basic: AUTH LOGIN with the password; basic-plain: AUTH PLAIN, only where the server advertises it (Exchange Online does not: refused, exit 1); oauth: AUTH XOAUTH2 with an access token.'),
    password: z.string().optional().describe('Basic: a ${env:NAME} or ${file:path} reference to the canary password (never inline).'),
    token: z
      .string()
      .optional()
      .describe('OAuth: a reference to an access token (delegated SMTP.Send or app-only SMTP.SendAsApp). Absent: an app-only token for https://outlook.office365.com/.default from tenant.auth.'),
    expect: z
      .union([probeExpectation, z.array(probeExpectation).min(1)])
      .describe(
        'What the probe should find, e.g. accepted for an allowlisted canary, mailbox-disabled for one outside the allowlist. verify reports any other answer as drift; no server reached (DNS, connect, timeout, TLS) fails the step instead.',
      ),
    host: z.string().min(1).default('smtp.office365.com').describe('Submission host: smtp.office365.com, or smtp-legacy.office365.com.'),
    port: z.number().int().min(1).max(65535).default(587).describe('Submission port (STARTTLS).'),
    caFile: z.string().optional().describe('A PEM file of extra CA certificates to trust (tests with a loopback server); relative to the playbook.'),
    timeoutSeconds: z.number().int().min(1).max(300).default(30).describe('How long each network step may take.'),
  })
  .superRefine((value, ctx) => {
    if (value.auth !== 'oauth' && value.password === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'a Basic probe needs password: "${env:NAME}" (or ${file:path})' });
    }
    if (value.auth === 'oauth' && value.password !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'an OAuth probe takes token:, not password:' });
    }
    if (value.auth !== 'oauth' && value.token !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'token: is for auth: oauth' });
    }
  });

const guid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)');

export const oauthSenderApplication = z
  .strictObject({
    appId: guid.describe('Application (client) id of the app registration that sends.'),
    servicePrincipalObjectId: guid.describe(
      "Object id of the app's Enterprise application (service principal) in Microsoft Entra ID, not the app registration's object id.",
    ),
    displayName: z.string().min(1).max(256).describe('The name Exchange shows for the service principal (New-ServicePrincipal -DisplayName).'),
    mailboxes: z.array(smtpAddress).min(1).describe('Mailboxes the app sends as; each must be on the playbook\'s smtp-auth/allowlist (SMTP AUTH stays on for OAuth too).'),
    grant: z
      .enum(['rbac', 'mailbox-permission'])
      .default('rbac')
      .describe('rbac: a management scope per mailbox and the role "Application SMTP.SendAsApp" (RBAC for Applications; no Entra permission); mailbox-permission: Add-MailboxPermission FullAccess (needs SMTP.SendAsApp with admin consent in Entra; the app can also read the mailbox).'),
    credential: z
      .strictObject({
        clientSecret: z.string().optional().describe('A ${env:NAME} or ${file:path} reference to a client secret of the app.'),
        certificatePath: z.string().optional().describe('A PEM file with the app\'s certificate and private key (relative to the playbook).'),
        certificatePassword: z.string().optional().describe('A reference to the PEM key\'s password.'),
      })
      .optional()
      .describe('How the proof gets a token for the app (client credentials); without it the app is provisioned but not proven.'),
  })
  .superRefine((value, ctx) => {
    const c = value.credential;
    if (c && (c.clientSecret === undefined) === (c.certificatePath === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['credential'], message: 'give exactly one of clientSecret or certificatePath' });
    }
  });

export const oauthSendersWith = z.strictObject({
  applications: z.array(oauthSenderApplication).min(1).describe('The apps that send with OAuth (client credentials), each with the mailboxes it sends as.'),
  exclusive: z
    .boolean()
    .default(false)
    .describe('true: every other "Application SMTP.SendAsApp" role assignment (another mailbox, another app, or organization-wide) is removed, through the grant guard.'),
  proof: z
    .strictObject({
      host: z.string().min(1).default('smtp.office365.com').describe('Submission host the proof signs in to.'),
      port: z.number().int().min(1).max(65535).default(587),
      caFile: z.string().optional().describe('A PEM file of extra CA certificates to trust (tests with a loopback server); relative to the playbook.'),
      authorityHost: z.string().optional().describe('Microsoft Entra authority host (default https://login.microsoftonline.com; sovereign clouds have their own).'),
      tenantId: z.string().optional().describe('Directory (tenant) id or domain the apps live in; default tenant.organization.'),
      timeoutSeconds: z.number().int().min(1).max(300).default(30),
    })
    .optional()
    .describe('Where apply and verify prove each app with an XOAUTH2 sign-in (no mail is ever sent). Absent: the defaults.'),
});

const psParameterValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(psParameterValue), z.record(z.string(), psParameterValue)]),
);

export const powershellWith = z.strictObject({
  cmdlet: z.string().regex(/^[A-Za-z]+-[A-Za-z0-9]+$/, 'must be a Verb-Noun cmdlet name'),
  parameters: z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/), psParameterValue).default({}),
  allowWrite: z.boolean().default(false).describe('Required for any cmdlet that is not Get-*.'),
  acceptUnderivedEffect: z
    .strictObject({
      reason: z.string().trim().min(10).max(500).describe('Why running this write unguarded is safe (a reviewer reads it in plan, explain and the journal).'),
    })
    .optional()
    .describe(
      "Lets a write run whose effect on SMTP AUTH the runner cannot derive (an unmodelled cmdlet or parameter, an identity it cannot match to one observed mailbox); apply refuses it otherwise (exit 4). A write it can derive (Set-CASMailbox/Set-TransportConfig -SmtpClientAuthenticationDisabled) is planned as the typed change under the lockout guard instead, and this acceptance does not cover it.",
    ),
});

/** `uses:` name → its `with` schema. */
export const ACTION_WITH_SCHEMAS = {
  'transport-config': transportConfigWith,
  'smtp-auth/usage': usageWith,
  'smtp-auth/allowlist': allowlistWith,
  'smtp-auth/verify': verifyWith,
  'smtp-auth/probe': probeWith,
  'smtp-auth/oauth-senders': oauthSendersWith,
  powershell: powershellWith,
} as const;
export type ActionName = keyof typeof ACTION_WITH_SCHEMAS;
export const ACTION_NAMES = Object.keys(ACTION_WITH_SCHEMAS) as ActionName[];

const stepCommon = {
  id,
  name: z.string().optional().describe('A human title for progress and reports.'),
  continueOnError: z
    .boolean()
    .default(false)
    .describe('A failed change never stops the other changes of its step; a step with a failure stops the later steps unless this is true.'),
};

export const stepSchema = z.discriminatedUnion('uses', [
  z.strictObject({ ...stepCommon, uses: z.literal('transport-config'), with: transportConfigWith }),
  z.strictObject({ ...stepCommon, uses: z.literal('smtp-auth/usage'), with: usageWith.default(usageWith.parse({})) }),
  z.strictObject({ ...stepCommon, uses: z.literal('smtp-auth/allowlist'), with: allowlistWith }),
  z.strictObject({ ...stepCommon, uses: z.literal('smtp-auth/verify'), with: verifyWith.default(verifyWith.parse({})) }),
  z.strictObject({ ...stepCommon, uses: z.literal('smtp-auth/probe'), with: probeWith }),
  z.strictObject({ ...stepCommon, uses: z.literal('smtp-auth/oauth-senders'), with: oauthSendersWith }),
  z.strictObject({ ...stepCommon, uses: z.literal('powershell'), with: powershellWith }),
]);
export type Step = z.infer<typeof stepSchema>;

export const playbookSchema = z.strictObject({
  apiVersion: z.literal('exo-playbook/v1'),
  name: id.describe('Names runs, locks and reports.'),
  description: z.string().optional(),
  change: z.string().max(128).optional().describe('A change-ticket reference copied into plans, journals and reports.'),
  tenant: z.strictObject({
    organization: z
      .string()
      // Connect-ExchangeOnline -Organization accepts the tenant's initial (primary) .onmicrosoft.com
      // domain or its tenant id, nothing else (Microsoft's Connect-ExchangeOnline reference, parameter
      // Organization); sovereign clouds have their own initial domains (.onmicrosoft.us, .partner.onmschina.cn).
      .regex(
        /^([a-z0-9][a-z0-9-]{0,62}\.(onmicrosoft\.com|onmicrosoft\.us|partner\.onmschina\.cn)|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
        "must be the tenant's primary .onmicrosoft.com domain (e.g. contoso.onmicrosoft.com) or its tenant id (a GUID), as Connect-ExchangeOnline -Organization takes them",
      )
      .describe('The tenant: its primary .onmicrosoft.com domain (e.g. contoso.onmicrosoft.com) or its tenant id.'),
    auth: authSchema,
    graph: z
      .strictObject({
        baseUrl: z.string().default('https://graph.microsoft.com').describe('Microsoft Graph\'s origin: https://graph.microsoft.com (global), https://graph.microsoft.us (US Government L4), https://dod-graph.microsoft.us (L5), https://microsoftgraph.chinacloudapi.cn (21Vianet).'),
      })
      .optional()
      .describe('Where the usage step\'s Graph sources go (sign-in logs, email app usage).'),
  }),
  fileRoots: z
    .array(z.string().min(1).regex(/^[^$]*$/, 'must be a plain folder path (no ${...} references)'))
    .default([])
    .describe(
      "Folders, besides the playbook's own, that ${file:} references and every path a step names (report:, requestReport:, history:, caFile:) may use: literal paths (no ${...} references), relative to the playbook's folder or absolute. A path that leaves them (also through a symlink) is refused at its line.",
    ),
  vars: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.array(z.string()), z.number(), z.boolean()]))
    .default({})
    .describe('Values steps refer to with ${vars.name}; ${file:path} loads an allowlist file.'),
  acceptBreakage: z
    .array(smtpAddress)
    .default([])
    .describe('Senders still seen in usage data that may lose SMTP AUTH (the lockout guard lets them through).'),
  acceptNoUsageEvidence: z
    .strictObject({
      reason: z.string().trim().min(10).max(500).describe('Why taking SMTP AUTH away without usage evidence is safe (a reviewer reads it).'),
    })
    .optional()
    .describe(
      'Lets a plan take SMTP AUTH away although no usage source this run read is complete and fresh (the lockout guard refuses otherwise). Prefer `report:` on the usage step.',
    ),
  steps: z.array(stepSchema).min(1),
});
export type Playbook = z.infer<typeof playbookSchema>;
