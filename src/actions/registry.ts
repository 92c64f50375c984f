/**
 * Every action, by its `uses:` name, and the checks over a whole plan. Adding a step kind means
 * adding its module and one line here; the engine does not change.
 */
import type { ActionDefinition, PlanCheck } from './types.js';
import { transportConfigAction } from './transport-config.js';
import { usageAction } from './smtp-auth/usage/index.js';
import { allowlistAction } from './smtp-auth/allowlist.js';
import { verifyAction } from './smtp-auth/verify.js';
import { powershellAction } from './powershell.js';
import { probeAction } from './smtp-auth/probe.js';
import { lockoutGuard } from './smtp-auth/lockout-guard.js';
import { oauthSendersAction } from './smtp-auth/oauth-senders/index.js';
import { grantGuard } from './smtp-auth/oauth-senders/grant-guard.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each action has its own With/Observed
export const ACTIONS: Record<string, ActionDefinition<any, any>> = {
  'transport-config': transportConfigAction,
  'smtp-auth/usage': usageAction,
  'smtp-auth/allowlist': allowlistAction,
  'smtp-auth/verify': verifyAction,
  'smtp-auth/probe': probeAction,
  'smtp-auth/oauth-senders': oauthSendersAction,
  powershell: powershellAction,
};

export const PLAN_CHECKS: PlanCheck[] = [lockoutGuard, grantGuard];
