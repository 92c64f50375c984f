/**
 * `smtp-auth/oauth-senders`: moves application senders off Basic. Per app it provisions what
 * Exchange Online needs for OAuth client-credentials submission (a service principal, then per
 * mailbox RBAC for Applications or FullAccess), writes only the differences through the journal,
 * and undoes each write with its exact inverse (grants.ts). The mailboxes must stay on the
 * allowlist: the SMTP AUTH switch governs OAuth submission too (shared/EXCHANGE-FACTS.md).
 */
import { oauthSendersWith } from '../../../playbook/schema.js';
import type { ActionDefinition } from '../../types.js';
import { invertGrantWrite } from './grants.js';
import { observeOAuthSenders, type OAuthSendersObserved } from './observe.js';
import { planOAuthSenders, USES } from './plan.js';
import { verifyOAuthSenders } from './verify.js';
import type { OAuthSendersWith } from './types.js';

export const oauthSendersAction: ActionDefinition<OAuthSendersWith, OAuthSendersObserved> = {
  uses: USES,
  summary: 'Provisions OAuth (SMTP.SendAsApp) for application senders: an Exchange service principal per app and a grant per mailbox (RBAC for Applications or FullAccess).',
  withSchema: oauthSendersWith,
  observe: (withValue, ctx) => observeOAuthSenders(withValue, ctx),
  plan: planOAuthSenders,
  verify: verifyOAuthSenders,
  invert: invertGrantWrite,
};
