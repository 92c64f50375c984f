/**
 * The error records the simulated service returns, with the exception types, FullyQualifiedErrorIds
 * and texts of the real ExchangeOnlineManagement module (the team's EXCHANGE-FACTS notes (shared/EXCHANGE-FACTS.md)). The stub
 * PowerShell module (test/fixtures/modules/ExchangeOnlineManagement) must produce the same records:
 * the conformance suite compares them.
 */
import type { CmdletErrorRecord } from '../session.js';

/** The task class behind each cmdlet, as it appears in FullyQualifiedErrorId. */
const TASK_CLASS: Record<string, string> = {
  'Get-CASMailbox': 'Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox',
  'Get-EXOCASMailbox': 'Microsoft.Exchange.Management.RecipientTasks.GetCASMailbox',
  'Set-CASMailbox': 'Microsoft.Exchange.Management.RecipientTasks.SetCASMailbox',
  'Get-Mailbox': 'Microsoft.Exchange.Management.RecipientTasks.GetMailbox',
  'Get-EXOMailbox': 'Microsoft.Exchange.Management.RecipientTasks.GetMailbox',
  'Get-User': 'Microsoft.Exchange.Management.RecipientTasks.GetUser',
  'Get-AuthenticationPolicy': 'Microsoft.Exchange.Management.SystemConfigurationTasks.GetAuthenticationPolicy',
  'Get-TransportConfig': 'Microsoft.Exchange.Management.SystemConfigurationTasks.GetTransportConfig',
  'Set-TransportConfig': 'Microsoft.Exchange.Management.SystemConfigurationTasks.SetTransportConfig',
  'Start-HistoricalSearch': 'Microsoft.Exchange.Management.ReportingTask.StartHistoricalSearch',
  'Get-HistoricalSearch': 'Microsoft.Exchange.Management.ReportingTask.GetHistoricalSearch',
  'Stop-HistoricalSearch': 'Microsoft.Exchange.Management.ReportingTask.StopHistoricalSearch',
  'Get-OrganizationConfig': 'Microsoft.Exchange.Management.SystemConfigurationTasks.GetOrganizationConfig',
  'Connect-ExchangeOnline': 'Microsoft.Exchange.Management.ExoPowershellSnapin.ConnectExchangeOnline',
  'New-ServicePrincipal': 'Microsoft.Exchange.Management.RbacTasks.NewServicePrincipal',
  'Get-ServicePrincipal': 'Microsoft.Exchange.Management.RbacTasks.GetServicePrincipal',
  'Remove-ServicePrincipal': 'Microsoft.Exchange.Management.RbacTasks.RemoveServicePrincipal',
  'New-ManagementScope': 'Microsoft.Exchange.Management.RbacTasks.NewManagementScope',
  'Get-ManagementScope': 'Microsoft.Exchange.Management.RbacTasks.GetManagementScope',
  'Remove-ManagementScope': 'Microsoft.Exchange.Management.RbacTasks.RemoveManagementScope',
  'New-ManagementRoleAssignment': 'Microsoft.Exchange.Management.RbacTasks.NewManagementRoleAssignment',
  'Get-ManagementRoleAssignment': 'Microsoft.Exchange.Management.RbacTasks.GetManagementRoleAssignment',
  'Remove-ManagementRoleAssignment': 'Microsoft.Exchange.Management.RbacTasks.RemoveManagementRoleAssignment',
  'Add-MailboxPermission': 'Microsoft.Exchange.Management.RecipientTasks.AddMailboxPermission',
  'Get-MailboxPermission': 'Microsoft.Exchange.Management.RecipientTasks.GetMailboxPermission',
  'Remove-MailboxPermission': 'Microsoft.Exchange.Management.RecipientTasks.RemoveMailboxPermission',
};

export function taskClass(cmdlet: string): string {
  return TASK_CLASS[cmdlet] ?? cmdlet;
}

/** Get/Set of an identity that does not exist (observed text; the code Ex6F9304 is the observed one). */
export function objectNotFound(cmdlet: string, identity: string, server: string): CmdletErrorRecord {
  return {
    exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    fullyQualifiedErrorId: `Ex6F9304,${taskClass(cmdlet)}`,
    message: `The operation couldn't be performed because object '${identity}' couldn't be found on '${server}'.`,
    code: 'Ex6F9304',
    target: identity,
    category: 'NotSpecified',
  };
}

/**
 * A New-* whose object exists already (the directory's ADObjectAlreadyExistsException; the wording
 * is the simulation's own: Microsoft documents no text for it).
 */
export function alreadyExists(cmdlet: string, message: string, target: string): CmdletErrorRecord {
  return {
    exceptionType: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
    fullyQualifiedErrorId: `ObjectAlreadyExists,${taskClass(cmdlet)}`,
    message,
    target,
    category: 'ResourceExists',
  };
}

/** A parameter name the cmdlet does not have (PowerShell's own binder text). */
export function parameterNotFound(cmdlet: string, name: string): CmdletErrorRecord {
  return {
    exceptionType: 'System.Management.Automation.ParameterBindingException',
    fullyQualifiedErrorId: `NamedParameterNotFound,${cmdlet}`,
    message: `A parameter cannot be found that matches parameter name '${name}'.`,
    target: null,
    category: 'InvalidArgument',
  };
}

export function ambiguousParameter(cmdlet: string, name: string, matches: string[]): CmdletErrorRecord {
  return {
    exceptionType: 'System.Management.Automation.ParameterBindingException',
    fullyQualifiedErrorId: `AmbiguousParameter,${cmdlet}`,
    message: `Parameter cannot be processed because the parameter name '${name}' is ambiguous. Possible matches include: ${matches.map((m) => `-${m}`).join(' ')}.`,
    target: null,
    category: 'InvalidArgument',
  };
}

export function missingMandatoryParameters(cmdlet: string, names: string[]): CmdletErrorRecord {
  return {
    exceptionType: 'System.Management.Automation.ParameterBindingException',
    fullyQualifiedErrorId: `MissingMandatoryParameter,${cmdlet}`,
    message: `Cannot process command because of one or more missing mandatory parameters: ${names.join(' ')}.`,
    target: null,
    category: 'InvalidArgument',
  };
}

/** A value the binder cannot convert to the parameter's type. */
export function argumentTransformation(cmdlet: string, parameter: string, detail: string): CmdletErrorRecord {
  return {
    exceptionType: 'System.Management.Automation.ParameterBindingArgumentTransformationException',
    fullyQualifiedErrorId: `ParameterArgumentTransformationError,${cmdlet}`,
    message: `Cannot process argument transformation on parameter '${parameter}'. ${detail}`,
    target: null,
    category: 'InvalidData',
  };
}

export function commandNotFound(cmdlet: string): CmdletErrorRecord {
  return {
    exceptionType: 'System.Management.Automation.CommandNotFoundException',
    fullyQualifiedErrorId: 'CommandNotFoundException',
    message: `The term '${cmdlet}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`,
    target: cmdlet,
    category: 'ObjectNotFound',
  };
}

/** A service-side validation failure (bad dates, quota, wrong state). */
export function taskArgumentError(cmdlet: string, code: string, message: string, target: string | null = null): CmdletErrorRecord {
  return {
    exceptionType: 'Microsoft.Exchange.Configuration.Tasks.TaskArgumentException',
    fullyQualifiedErrorId: `${code},${taskClass(cmdlet)}`,
    message,
    code,
    target,
    category: 'InvalidArgument',
  };
}

/** The throttling text retry logic keys on (EXCHANGE-FACTS "Throttling and errors worth retrying"). */
export const THROTTLING_MESSAGE =
  'You have reached the maximum number of concurrent requests per tenant. Please wait and try again';
export const SERVER_BUSY_MESSAGE = 'Server Busy';

/** The REST cmdlets' classes, as they end the FullyQualifiedErrorId of a REST-form error. */
const REST_CLASS: Record<string, string> = {
  'Get-EXOCASMailbox': 'Microsoft.Exchange.Management.RestApiClient.GetExoCasMailbox',
  'Get-EXOMailbox': 'Microsoft.Exchange.Management.RestApiClient.GetExoMailbox',
};

export function isRestCmdlet(cmdlet: string): boolean {
  return cmdlet in REST_CLASS;
}

const REST_CODES: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 408: 'RequestTimeout', 429: 'TooManyRequests', 500: 'InternalServerError', 503: 'ServiceUnavailable', 504: 'GatewayTimeout' };

/**
 * The Get-EXO* form: `Error while querying REST service. HttpStatusCode=<n> ErrorMessage={json}`,
 * RestClientException, category ProtocolError (observed: MicrosoftDocs/office-docs-powershell#4333).
 */
export function restError(cmdlet: string, httpStatus: number, text: string): CmdletErrorRecord {
  const body = {
    error: {
      code: REST_CODES[httpStatus] ?? 'Error',
      message: text,
      innererror: { message: text, type: 'Microsoft.Exchange.Admin.OData.Core.ODataServiceException' },
    },
  };
  return {
    exceptionType: 'Microsoft.Exchange.Management.RestApiClient.RestClientException',
    fullyQualifiedErrorId: `An error occurred while processing this request.,${REST_CLASS[cmdlet] ?? taskClass(cmdlet)}`,
    message: `Error while querying REST service. HttpStatusCode=${httpStatus} ErrorMessage=${JSON.stringify(body)}`,
    target: null,
    category: 'ProtocolError',
  };
}

/** The empty-code form `|Microsoft.Exchange.Management.Tasks.RecipientTaskException|<text>` (EXCHANGE-FACTS). */
export function recipientTaskError(cmdlet: string, text: string, target: string | null = null): CmdletErrorRecord {
  return {
    exceptionType: 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
    fullyQualifiedErrorId: `RecipientTaskException,${taskClass(cmdlet)}`,
    message: text,
    target,
    category: 'NotSpecified',
  };
}

/** Throttled: the REST form with HTTP 429 for Get-EXO*, the service text in the piped form otherwise. */
export function throttled(cmdlet: string): CmdletErrorRecord {
  if (isRestCmdlet(cmdlet)) return restError(cmdlet, 429, THROTTLING_MESSAGE);
  return {
    exceptionType: 'Microsoft.Exchange.Management.RestApiClient.RestClientException',
    fullyQualifiedErrorId: `Throttled,${taskClass(cmdlet)}`,
    message: THROTTLING_MESSAGE,
    target: null,
    category: 'ResourceBusy',
  };
}

export function serverBusy(cmdlet: string): CmdletErrorRecord {
  if (isRestCmdlet(cmdlet)) return restError(cmdlet, 503, SERVER_BUSY_MESSAGE);
  return {
    exceptionType: 'Microsoft.Exchange.Management.RestApiClient.RestClientException',
    fullyQualifiedErrorId: `ServerBusy,${taskClass(cmdlet)}`,
    message: SERVER_BUSY_MESSAGE,
    target: null,
    category: 'ResourceUnavailable',
  };
}
