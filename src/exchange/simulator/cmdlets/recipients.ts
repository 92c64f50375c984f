/**
 * Recipient cmdlets: Get-CASMailbox, Get-EXOCASMailbox, Set-CASMailbox, Get-Mailbox, Get-EXOMailbox,
 * Get-User. Output objects carry the Exchange property names; SmtpClientAuthenticationDisabled is in
 * Get-EXOCASMailbox's output only when asked for by name with -Properties (it is in no property set).
 */
import type { PsObject, PsValue } from '../../session.js';
import type { SimMailbox } from '../state.js';
import { CLR, UNLIMITED } from '../parameters.js';
import { objectNotFound, taskArgumentError } from '../records.js';
import { fail, NO_OUTPUT, stringParameter, type CmdletContext, type CmdletDefinition } from './context.js';

const DEFAULT_RESULT_SIZE = 1000;

/** Remote-PowerShell style cmdlets (Get-CASMailbox, Get-Mailbox, Get-User) warn with this text. */
export const RPS_MORE_RESULTS_WARNING =
  'By default, only the first 1000 items are returned. Use the ResultSize parameter to specify the number of items returned. To return all items, specify "-ResultSize Unlimited". Be aware that, depending on the actual number of items, returning all items can take a long time and consume a large amount of memory. Also, we don\'t recommend storing the results in a variable. Instead, pipe the results to another task or script to perform batch changes.';
/** REST cmdlets (Get-EXOCASMailbox, Get-EXOMailbox) warn with this text. */
export const REST_MORE_RESULTS_WARNING =
  'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.';

/** Get-CASMailbox's properties (the parts the simulation models), each read from the mailbox. */
const CAS_PROPERTIES: Record<string, (m: SimMailbox) => PsValue> = {
  Identity: (m) => m.Name,
  Name: (m) => m.Name,
  DisplayName: (m) => m.DisplayName,
  Alias: (m) => m.Alias,
  PrimarySmtpAddress: (m) => m.PrimarySmtpAddress,
  EmailAddresses: (m) => [...m.EmailAddresses],
  UserPrincipalName: (m) => m.UserPrincipalName,
  Guid: (m) => m.Guid,
  RecipientTypeDetails: (m) => m.RecipientTypeDetails,
  SmtpClientAuthenticationDisabled: (m) => m.SmtpClientAuthenticationDisabled,
};
/** Lower-case name → the property's own spelling (-Properties matches names case-insensitively). */
const CAS_NAMES = new Map(Object.keys(CAS_PROPERTIES).map((name) => [name.toLowerCase(), name]));

function casView(m: SimMailbox): PsObject {
  const view: PsObject = {};
  for (const [name, read] of Object.entries(CAS_PROPERTIES)) view[name] = read(m);
  return view;
}

/** Get-EXOCASMailbox's minimum property set (the parts the simulation models). */
function exoCasView(m: SimMailbox, extra: readonly string[]): PsObject {
  const view: PsObject = {
    Identity: m.Name,
    Name: m.Name,
    DisplayName: m.DisplayName,
    PrimarySmtpAddress: m.PrimarySmtpAddress,
    EmailAddresses: [...m.EmailAddresses],
    Guid: m.Guid,
  };
  // A bulk read asks this for every mailbox: read only the extra properties, no whole view per mailbox.
  for (const name of extra) {
    const key = CAS_NAMES.get(name.toLowerCase());
    if (key) view[key] = CAS_PROPERTIES[key]!(m);
  }
  return view;
}

/** Get-Mailbox shows the same identity properties; the SMTP AUTH switch is a CAS property. */
function mailboxView(m: SimMailbox): PsObject {
  const { SmtpClientAuthenticationDisabled: _casOnly, ...view } = casView(m);
  return view;
}

function userView(m: SimMailbox): PsObject {
  return {
    Identity: m.Name,
    Name: m.Name,
    DisplayName: m.DisplayName,
    UserPrincipalName: m.UserPrincipalName,
    WindowsEmailAddress: m.PrimarySmtpAddress,
    Guid: m.Guid,
    RecipientTypeDetails: m.RecipientTypeDetails,
    AuthenticationPolicy: m.AuthenticationPolicy,
  };
}

/**
 * The Get-User -Filter forms the simulator understands: whether the user has a policy of its own.
 * AuthenticationPolicy is filterable on Get-User with a string or $null (Microsoft's "Filterable
 * properties for the Filter parameter"). Any other filter is refused rather than guessed.
 */
const POLICY_FILTER = /^\s*\(?\s*AuthenticationPolicy\s+-(eq|ne)\s+\$null\s*\)?\s*$/i;

function userFilter(context: CmdletContext, filter: string): (m: SimMailbox) => boolean {
  const match = POLICY_FILTER.exec(filter);
  if (!match) {
    fail(
      context,
      taskArgumentError(context.cmdlet, 'SimulatorUnsupportedFilter', `The simulated tenant supports only the filters "AuthenticationPolicy -ne $null" and "AuthenticationPolicy -eq $null" on Get-User, not "${filter}".`),
    );
  }
  const hasPolicy = match[1]!.toLowerCase() === 'ne';
  return (m) => (m.AuthenticationPolicy !== null && m.AuthenticationPolicy !== '') === hasPolicy;
}

/**
 * The shared read: one mailbox by identity (not found is a non-terminating error), or all of them,
 * lazily, up to ResultSize, warning when more exist.
 */
function* readRecipients(
  context: CmdletContext,
  identity: string | undefined,
  view: (m: SimMailbox) => PsObject,
  moreResultsWarning: string,
  where?: (m: SimMailbox) => boolean,
): Generator<PsObject> {
  if (identity !== undefined) {
    const mailbox = context.tenant.findMailbox(identity);
    if (mailbox) yield view(mailbox);
    else context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
    return;
  }
  const resultSize = context.parameters.values.get('ResultSize');
  const limit = typeof resultSize === 'number' ? resultSize : DEFAULT_RESULT_SIZE;
  let returned = 0;
  let more = false;
  for (const mailbox of context.tenant.state.mailboxes) {
    if (where && !where(mailbox)) continue;
    if (returned === limit) {
      more = true;
      break;
    }
    returned++;
    yield view(mailbox);
  }
  // The real cmdlets warn only when the default cut the list short.
  if (limit !== UNLIMITED && resultSize === undefined && more) context.warn(moreResultsWarning);
}

export const getCasMailbox: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object },
    { name: 'ResultSize', type: 'result-size', clr: CLR.object },
  ],
  run: (context) => readRecipients(context, stringParameter(context, 'Identity'), casView, RPS_MORE_RESULTS_WARNING),
};

export const getExoCasMailbox: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.string },
    { name: 'PrimarySmtpAddress', type: 'string', clr: CLR.string },
    { name: 'UserPrincipalName', type: 'string', clr: CLR.string },
    { name: 'ResultSize', type: 'result-size', clr: CLR.unlimited },
    { name: 'Properties', type: 'string[]', clr: CLR.strings },
    { name: 'PropertySets', type: 'string[]', clr: 'Microsoft.Exchange.Management.RestApiClient.GetExoCasMailbox+PropertySet[]' },
  ],
  run: (context) => {
    const properties = (context.parameters.values.get('Properties') as string[] | undefined) ?? [];
    const identity =
      stringParameter(context, 'Identity') ?? stringParameter(context, 'PrimarySmtpAddress') ?? stringParameter(context, 'UserPrincipalName');
    return readRecipients(context, identity, (m) => exoCasView(m, properties), REST_MORE_RESULTS_WARNING);
  },
};

export const getMailbox: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object },
    { name: 'ResultSize', type: 'result-size', clr: CLR.object },
    { name: 'RecipientTypeDetails', type: 'string[]', clr: CLR.objects },
  ],
  run: (context) => filterByType(context, readRecipients(context, stringParameter(context, 'Identity'), mailboxView, RPS_MORE_RESULTS_WARNING)),
};

export const getExoMailbox: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.string },
    { name: 'PrimarySmtpAddress', type: 'string', clr: CLR.string },
    { name: 'UserPrincipalName', type: 'string', clr: CLR.string },
    { name: 'ResultSize', type: 'result-size', clr: CLR.unlimited },
    { name: 'RecipientTypeDetails', type: 'string[]', clr: CLR.strings },
    { name: 'Properties', type: 'string[]', clr: CLR.strings },
    { name: 'PropertySets', type: 'string[]', clr: 'Microsoft.Exchange.Management.RestApiClient.GetExoMailbox+PropertySet[]' },
  ],
  run: (context) => {
    const identity =
      stringParameter(context, 'Identity') ?? stringParameter(context, 'PrimarySmtpAddress') ?? stringParameter(context, 'UserPrincipalName');
    return filterByType(context, readRecipients(context, identity, mailboxView, REST_MORE_RESULTS_WARNING));
  },
};

function* filterByType(context: CmdletContext, objects: Iterable<PsObject>): Generator<PsObject> {
  const types = context.parameters.values.get('RecipientTypeDetails') as string[] | undefined;
  const wanted = types?.map((t) => t.toLowerCase());
  for (const object of objects) {
    if (!wanted || wanted.includes(String(object.RecipientTypeDetails).toLowerCase())) yield object;
  }
}

export const getUser: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object },
    { name: 'Filter', type: 'string', clr: CLR.string },
    { name: 'ResultSize', type: 'result-size', clr: CLR.object },
  ],
  run(context) {
    const filter = stringParameter(context, 'Filter');
    return readRecipients(context, stringParameter(context, 'Identity'), userView, RPS_MORE_RESULTS_WARNING, filter === undefined ? undefined : userFilter(context, filter));
  },
};

export const setCasMailbox: CmdletDefinition = {
  parameters: [
    { name: 'Identity', type: 'string', clr: CLR.object, mandatory: true },
    // System.Object in the module: $true, $false and $null all bind (the service takes the tri-state).
    { name: 'SmtpClientAuthenticationDisabled', type: 'nullable-bool', clr: CLR.object },
    // The module's generated function declares -Confirm itself; it has no -WhatIf.
    { name: 'Confirm', type: 'switch', clr: CLR.switch },
  ],
  run(context) {
    const identity = stringParameter(context, 'Identity') ?? '';
    const mailbox = context.tenant.findMailbox(identity);
    if (!mailbox) {
      context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
      return NO_OUTPUT;
    }
    const values = context.parameters.values;
    if (values.has('SmtpClientAuthenticationDisabled')) {
      const desired = values.get('SmtpClientAuthenticationDisabled') as boolean | null;
      if (mailbox.SmtpClientAuthenticationDisabled !== desired) {
        mailbox.SmtpClientAuthenticationDisabled = desired;
        context.changed({ mailbox });
        return NO_OUTPUT;
      }
    }
    context.warn(noSettingsModified(mailbox.Name));
    return NO_OUTPUT;
  },
};

export function noSettingsModified(object: string): string {
  return `The command completed successfully but no settings of '${object}' have been modified.`;
}
