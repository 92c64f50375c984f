/**
 * The semantic difference between two versions of a playbook, as a reviewer reads it: steps added,
 * removed or moved, settings changed, allowlist entries added and removed. Comments, key order and
 * formatting never show up here because both sides are compared after loading and resolving.
 */

export type PlaybookChangeKind =
  | 'playbook-added'
  | 'playbook-removed'
  | 'step-added'
  | 'step-removed'
  | 'step-moved'
  | 'setting-changed'
  | 'allowlist-added'
  | 'allowlist-removed'
  | 'breakage-accepted'
  | 'breakage-unaccepted'
  /** smtp-auth/oauth-senders: an app may now send as a mailbox, or no longer (always sensitive). */
  | 'oauth-grant-added'
  | 'oauth-grant-removed';

export interface PlaybookChange {
  kind: PlaybookChangeKind;
  /** Dotted path of what changed, e.g. "tenant.auth.method", "steps.allow.with.exclusive". */
  path: string;
  stepId?: string;
  before?: unknown;
  after?: unknown;
  /** For allowlist changes: the addresses, sorted. */
  addresses?: string[];
  /** For allowlist changes: the file the addresses came from (as written in ${file:...}), when known. */
  source?: string;
  /** Tenant, sign-in or acceptBreakage changes: a reviewer must look twice. */
  sensitive: boolean;
  /** One line for a reviewer. */
  message: string;
}

/** One side of the comparison. */
export interface PlaybookVersion {
  /** Path as given (file form) or as stored in git. */
  file: string;
  /** "working tree", a revision such as "HEAD~1", or the file path. */
  label: string;
  name?: string;
  change?: string;
  organization?: string;
}

export interface PlaybookDiff {
  /** null when the playbook did not exist on that side. */
  old: PlaybookVersion | null;
  new: PlaybookVersion | null;
  changes: PlaybookChange[];
}

/** What `exo-playbook diff` prints: one entry per playbook compared. */
export interface DiffReport {
  formatVersion: 1;
  diffs: PlaybookDiff[];
  /** True when any diff has a change: the command exits 2. */
  changed: boolean;
  /** True when any change is sensitive. */
  sensitive: boolean;
}
