/**
 * Organization-level cmdlets: Connect/Disconnect-ExchangeOnline, Get/Set-TransportConfig,
 * Get-OrganizationConfig, Get-AuthenticationPolicy.
 */
import type { PsObject } from '../../session.js';
import type { SimAuthenticationPolicy } from '../state.js';
import { objectNotFound, taskArgumentError } from '../records.js';
import { fail, NO_OUTPUT, stringParameter, type CmdletDefinition } from './context.js';
import { noSettingsModified } from './recipients.js';

/** The Identity Exchange gives the organization's transport configuration object. */
export const TRANSPORT_CONFIG_IDENTITY = 'Transport Settings';

export const connectExchangeOnline: CmdletDefinition = {
  parameters: [
    { name: 'AccessToken', type: 'any' },
    { name: 'Organization', type: 'string' },
    { name: 'AppId', type: 'string' },
    { name: 'CertificateFilePath', type: 'string' },
    { name: 'CertificatePassword', type: 'any' },
    { name: 'ManagedIdentity', type: 'switch' },
    { name: 'ManagedIdentityAccountId', type: 'string' },
    { name: 'Device', type: 'switch' },
    { name: 'ShowBanner', type: 'switch' },
    { name: 'SkipLoadingFormatData', type: 'switch' },
    { name: 'CommandName', type: 'string[]' },
  ],
  run(context) {
    const organization = stringParameter(context, 'Organization');
    const actual = context.tenant.state.organization.Name;
    if (organization !== undefined && organization.toLowerCase() !== actual.toLowerCase()) {
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
  parameters: [],
  shouldProcess: true,
  *run() {},
};

export const getTransportConfig: CmdletDefinition = {
  parameters: [{ name: 'Identity', type: 'string' }],
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
    { name: 'Identity', type: 'string' },
    { name: 'SmtpClientAuthenticationDisabled', type: 'bool' },
  ],
  shouldProcess: true,
  run(context) {
    const values = context.parameters.values;
    if (values.get('WhatIf') === true) return NO_OUTPUT;
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
  parameters: [{ name: 'Identity', type: 'string' }],
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
