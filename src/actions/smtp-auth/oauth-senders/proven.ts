/**
 * The senders an oauth-senders step of the playbook has proven on OAuth (board state "OAuth proven"
 * or "Basic stopped"), by every address of their mailbox. The usage step reads it (verify, and its
 * completed plan) to leave them out of the December warning: they have a route that survives Basic
 * going off, and this step itself warns while one still sends with Basic (oauth-basic-still-used).
 * Pure, over the run's observations, like the rest of verify.
 */
import type { PlanInput } from '../../types.js';
import { migrationBoard } from './board.js';
import type { OAuthSendersObserved } from './observe.js';
import { lower, mailboxOf, USES } from './senders.js';
import type { OAuthSendersWith } from './types.js';

export interface ProvenRoute {
  stepId: string;
  app: string;
  mailbox: string;
}

/** Lower-case address → the proven route that covers it (the first oauth-senders step that proved it). */
export function provenRoutes(input: Pick<PlanInput<unknown, unknown>, 'playbook' | 'observations'>): Map<string, ProvenRoute> {
  const routes = new Map<string, ProvenRoute>();
  for (const step of input.playbook.steps) {
    if (step.uses !== USES) continue;
    const observed = input.observations.get(step.id) as OAuthSendersObserved | undefined;
    if (observed?.kind !== 'oauth-senders') continue;
    const board = migrationBoard({ stepId: step.id, with: step.with as OAuthSendersWith, observed, playbook: input.playbook, observations: input.observations });
    for (const row of board) {
      if (row.state !== 'oauth-proven' && row.state !== 'basic-stopped') continue;
      const addresses = mailboxOf(observed, row.appId, row.mailbox)?.addresses ?? [];
      for (const address of [row.mailbox, ...addresses].map(lower)) {
        if (!routes.has(address)) routes.set(address, { stepId: step.id, app: row.app, mailbox: row.mailbox });
      }
    }
  }
  return routes;
}

/** The route covering a usage sender (any of its addresses), if one is proven. */
export function provenRouteOf(routes: ReadonlyMap<string, ProvenRoute>, addresses: readonly (string | null)[]): ProvenRoute | undefined {
  for (const a of addresses) if (a !== null && routes.has(lower(a))) return routes.get(lower(a));
  return undefined;
}

/** "2 sender(s) left out of the December warning: …", or null when none is. */
export function leftOutNote(left: readonly { sender: string; route: ProvenRoute }[]): string | null {
  if (left.length === 0) return null;
  const named = left.map(({ sender, route }) => `${sender} (${route.app}, step '${route.stepId}')`).join(', ');
  return `${left.length} sender(s) left out of the December warning: proven on OAuth (XOAUTH2 sign-in as the mailbox) by an oauth-senders step, a route that survives Basic going off: ${named}; the oauth-senders step warns while one still sends with Basic`;
}
