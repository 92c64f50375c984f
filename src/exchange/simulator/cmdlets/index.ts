/** The simulated cmdlets by name (the same list as ALLOWED_CMDLETS in ../../session.ts). */
import type { AllowedCmdlet } from '../../session.js';
import type { CmdletDefinition } from './context.js';
import {
  addMailboxPermission,
  getMailboxPermission,
  getManagementRoleAssignment,
  getManagementScope,
  getServicePrincipal,
  newManagementRoleAssignment,
  newManagementScope,
  newServicePrincipal,
  removeMailboxPermission,
  removeManagementRoleAssignment,
  removeManagementScope,
  removeServicePrincipal,
} from './app-access.js';
import { getHistoricalSearch, startHistoricalSearch, stopHistoricalSearch } from './historical-search.js';
import {
  connectExchangeOnline,
  disconnectExchangeOnline,
  getAuthenticationPolicy,
  getOrganizationConfig,
  getTransportConfig,
  setTransportConfig,
} from './organization.js';
import { getCasMailbox, getExoCasMailbox, getExoMailbox, getMailbox, getUser, setCasMailbox } from './recipients.js';

export const SIMULATED_CMDLETS: Record<AllowedCmdlet, CmdletDefinition> = {
  'Connect-ExchangeOnline': connectExchangeOnline,
  'Disconnect-ExchangeOnline': disconnectExchangeOnline,
  'Get-TransportConfig': getTransportConfig,
  'Set-TransportConfig': setTransportConfig,
  'Get-CASMailbox': getCasMailbox,
  'Get-EXOCASMailbox': getExoCasMailbox,
  'Set-CASMailbox': setCasMailbox,
  'Get-Mailbox': getMailbox,
  'Get-EXOMailbox': getExoMailbox,
  'Start-HistoricalSearch': startHistoricalSearch,
  'Get-HistoricalSearch': getHistoricalSearch,
  'Stop-HistoricalSearch': stopHistoricalSearch,
  'Get-AuthenticationPolicy': getAuthenticationPolicy,
  'Get-OrganizationConfig': getOrganizationConfig,
  'Get-User': getUser,
  'New-ServicePrincipal': newServicePrincipal,
  'Get-ServicePrincipal': getServicePrincipal,
  'Remove-ServicePrincipal': removeServicePrincipal,
  'New-ManagementScope': newManagementScope,
  'Get-ManagementScope': getManagementScope,
  'Remove-ManagementScope': removeManagementScope,
  'New-ManagementRoleAssignment': newManagementRoleAssignment,
  'Get-ManagementRoleAssignment': getManagementRoleAssignment,
  'Remove-ManagementRoleAssignment': removeManagementRoleAssignment,
  'Add-MailboxPermission': addMailboxPermission,
  'Get-MailboxPermission': getMailboxPermission,
  'Remove-MailboxPermission': removeMailboxPermission,
};

/** Cmdlet names are case-insensitive in PowerShell; returns the canonical name. */
export function findCmdlet(name: string): AllowedCmdlet | undefined {
  const lower = name.toLowerCase();
  return (Object.keys(SIMULATED_CMDLETS) as AllowedCmdlet[]).find((c) => c.toLowerCase() === lower);
}
