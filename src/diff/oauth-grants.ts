/**
 * smtp-auth/oauth-senders in a diff: a reviewer reads grants, not a list of objects. Each (app,
 * mailbox) an app may send as is one grant; a grant added or removed is sensitive (it decides who
 * may send as whom), as is a changed service principal object id or `exclusive`. Other app settings
 * (display name, credential references, proof) are ordinary setting changes.
 */
import type { PlaybookChange } from './types.js';

interface AppLike {
  appId?: unknown;
  displayName?: unknown;
  mailboxes?: unknown;
  grant?: unknown;
  [key: string]: unknown;
}

function apps(withValue: unknown): Map<string, AppLike> {
  const list = (withValue as { applications?: unknown } | undefined)?.applications;
  const out = new Map<string, AppLike>();
  if (Array.isArray(list)) for (const app of list as AppLike[]) if (typeof app?.appId === 'string') out.set(app.appId.toLowerCase(), app);
  return out;
}

function grants(app: AppLike | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!app || !Array.isArray(app.mailboxes)) return out;
  const kind = typeof app.grant === 'string' ? app.grant : 'rbac';
  for (const mailbox of app.mailboxes) if (typeof mailbox === 'string') out.set(`${mailbox.toLowerCase()}\n${kind}`, mailbox);
  return out;
}

const fmt = (v: unknown) => (v === undefined ? '(unset)' : typeof v === 'string' ? v : JSON.stringify(v));

/** The grant-level changes of one oauth-senders step (`applications` and `exclusive`; the caller compares the rest). */
export function oauthGrantChanges(prefix: string, stepId: string, withA: unknown, withB: unknown): PlaybookChange[] {
  const a = apps(withA);
  const b = apps(withB);
  const changes: PlaybookChange[] = [];
  const path = `${prefix}.with.applications`;
  const exclusive = (w: unknown) => (w as { exclusive?: unknown } | undefined)?.exclusive ?? false;
  if (exclusive(withA) !== exclusive(withB)) {
    const where = `${prefix}.with.exclusive`;
    changes.push({ kind: 'setting-changed', path: where, stepId, before: exclusive(withA), after: exclusive(withB), sensitive: true, message: `${where}: ${fmt(exclusive(withA))} → ${fmt(exclusive(withB))}` });
  }
  for (const appId of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const before = a.get(appId);
    const after = b.get(appId);
    const name = String((after ?? before)!.displayName ?? appId);
    const ga = grants(before);
    const gb = grants(after);
    for (const [key, mailbox] of gb) {
      if (ga.has(key)) continue;
      changes.push({ kind: 'oauth-grant-added', path, stepId, addresses: [mailbox], sensitive: true, message: `${path}: ${name} (${appId}) may send as ${mailbox} (${key.split('\n')[1]})` });
    }
    for (const [key, mailbox] of ga) {
      if (gb.has(key)) continue;
      changes.push({ kind: 'oauth-grant-removed', path, stepId, addresses: [mailbox], sensitive: true, message: `${path}: ${name} (${appId}) no longer sends as ${mailbox} (${key.split('\n')[1]})` });
    }
    if (!before || !after) continue;
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      if (['appId', 'mailboxes', 'grant'].includes(key) || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
      changes.push({
        kind: 'setting-changed',
        path: `${path}.${appId}.${key}`,
        stepId,
        before: before[key],
        after: after[key],
        sensitive: key === 'servicePrincipalObjectId',
        message: `${path}.${appId}.${key}: ${fmt(before[key])} → ${fmt(after[key])}`,
      });
    }
  }
  return changes;
}
