/**
 * Organization-level cmdlets: Connect/Disconnect-ExchangeOnline, Get/Set-TransportConfig,
 * Get-OrganizationConfig, Get-AuthenticationPolicy.
 */
import type { PsObject } from '../../session.js';
import type { SimAuthenticationPolicy } from '../state.js';
import { objectNotFound, taskArgumentError } from '../records.js';
import { CLR } from '../parameters.js';
import { fail, NO_OUTPUT, stringParameter, type CmdletDefinition } from './context.js';
import { noSettingsModified } from './recipients.js';

/** The Identity Exchange gives the organization's transport configuration object. */
export const TRANSPORT_CONFIG_IDENTITY = 'Transport Settings';

export const connectExchangeOnline: CmdletDefinition = {
  parameters: [
    { name: 'AccessToken', type: 'string', clr: CLR.string },
    { name: 'Organization', type: 'string', clr: CLR.string },
    { name: 'UserPrincipalName', type: 'string', clr: CLR.string },
    { name: 'DelegatedOrganization', type: 'string', clr: CLR.string },
    { name: 'AppId', type: 'string', clr: CLR.string },
    { name: 'CertificateFilePath', type: 'string', clr: CLR.string },
    { name: 'CertificatePassword', type: 'any', clr: CLR.secureString },
    { name: 'ManagedIdentity', type: 'switch', clr: CLR.switch },
    { name: 'ManagedIdentityAccountId', type: 'string', clr: CLR.string },
    { name: 'Device', type: 'switch', clr: CLR.switch },
    { name: 'ShowBanner', type: 'switch', clr: CLR.switch },
    { name: 'SkipLoadingFormatData', type: 'switch', clr: CLR.switch },
    { name: 'CommandName', type: 'string[]', clr: CLR.strings },
  ],
  run(context) {
    const actual = context.tenant.state.organization.Name;
    // -Organization and -DelegatedOrganization (a partner managing a customer) name the tenant by its
    // initial domain or its tenant id (Connect-ExchangeOnline reference).
    const names = [actual, context.tenant.state.organization.TenantId].filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase());
    const organization = [stringParameter(context, 'Organization'), stringParameter(context, 'DelegatedOrganization')].find(
      (named) => named !== undefined && !names.includes(named.toLowerCase()),
    );
    if (organization !== undefined) {
      fail(
        context,
        taskArgumentError(
          context.cmdlet,
          'UnknownOrganization',
          `Unable to connect to organization '${organization}': the signed-in tenant is '${actual}'. Check tenant.organization in the playbook (or the simulated tenant's organization.Name).`,
          organization,
        ),
      );
    }
    return NO_OUTPUT;
  },
};

export const disconnectExchangeOnline: CmdletDefinition = {
  parameters: [
    { name: 'Confirm', type: 'switch', clr: CLR.switch },
    { name: 'WhatIf', type: 'switch', clr: CLR.switch },
  ],
  *run() {},
};

/** Exchange Online's Get-/Set-TransportConfig take no -Identity (EXCHANGE-FACTS). */
export const getTransportConfig: CmdletDefinition = {
  parameters: [],
  *run(context) {
    yield {
      Identity: TRANSPORT_CONFIG_IDENTITY,
      Name: TRANSPORT_CONFIG_IDENTITY,
      SmtpClientAuthenticationDisabled: context.tenant.state.transportConfig.SmtpClientAuthenticationDisabled,
    };
  },
};

export const setTransportConfig: CmdletDefinition = {
  parameters: [
    { name: 'SmtpClientAuthenticationDisabled', type: 'bool', clr: CLR.bool },
    // The module's generated function declares -Confirm itself; it has no -WhatIf.
    { name: 'Confirm', type: 'switch', clr: CLR.switch },
  ],
  run(context) {
    const values = context.parameters.values;
    const config = context.tenant.state.transportConfig;
    if (values.has('SmtpClientAuthenticationDisabled')) {
      const desired = values.get('SmtpClientAuthenticationDisabled') as boolean;
      if (config.SmtpClientAuthenticationDisabled !== desired) {
        config.SmtpClientAuthenticationDisabled = desired;
        context.changed({ section: 'transportConfig' });
        return NO_OUTPUT;
      }
    }
    context.warn(noSettingsModified(TRANSPORT_CONFIG_IDENTITY));
    return NO_OUTPUT;
  },
};

export const getOrganizationConfig: CmdletDefinition = {
  parameters: [],
  *run(context) {
    const { state } = context.tenant;
    yield {
      Identity: state.organization.Name,
      Name: state.organization.Name,
      DefaultAuthenticationPolicy: state.organizationConfig.DefaultAuthenticationPolicy,
    };
  },
};

function policyView(policy: SimAuthenticationPolicy): PsObject {
  return { Identity: policy.Name, Name: policy.Name, AllowBasicAuthSmtp: policy.AllowBasicAuthSmtp };
}

export const getAuthenticationPolicy: CmdletDefinition = {
  parameters: [{ name: 'Identity', type: 'string', clr: CLR.object }],
  *run(context) {
    const identity = stringParameter(context, 'Identity');
    const policies = context.tenant.state.authenticationPolicies;
    if (identity === undefined) {
      yield* policies.map(policyView);
      return;
    }
    const policy = policies.find((p) => p.Name.toLowerCase() === identity.toLowerCase());
    if (policy) yield policyView(policy);
    else context.writeError(objectNotFound(context.cmdlet, identity, context.tenant.server));
  },
};
