/**
 * The simulated tenant's change log: writes cost O(1) instead of a rewrite of the whole state file.
 *
 * Beside `tenant.json` lives `tenant.json.changes`, append-only JSON lines. The first line names the
 * exact state file it extends (inode, size, mtime); every later line is one change:
 *   {"mailbox": "<Guid>", "at": <index>, "set": {"SmtpClientAuthenticationDisabled": null, "AuthenticationPolicy": …}}
 *   {"section": "transportConfig", "value": {…}}      (a small top-level part, replaced whole)
 * Loading reads the file, then replays the log when its header matches the file. Each change is a
 * complete value, so replaying it twice is harmless; that is what makes a fold crash-safe:
 *   1. write the whole state to a temp file and rename it over tenant.json (atomic);
 *   2. delete the log.
 * Killed between 1 and 2, the log's header no longer matches the new file (another inode), so it is
 * ignored, and the new file already holds every change. Killed while appending, a line without its
 * newline is the one write that did not happen; every complete line before it did. A state file
 * replaced by someone else (`sim init --force`, the stub module) has another inode too: a log that
 * belonged to the old file is never applied to the new one.
 */
import { statSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { readRegularFile, readRegularFileSync } from '../../files/regular-file.js';
import type { SimMailbox, TenantState } from './state.js';

/** As large as the state file may be (state-file.ts MAX_STATE_FILE_BYTES): folded in now and then. */
const MAX_CHANGE_LOG_BYTES = 256 * 1024 * 1024;

/** A change the simulated cmdlets report; the session logs it after the call. */
export type TenantChange = { mailbox: SimMailbox } | { section: LoggedSection };

/** Top-level parts small enough to log whole. Mailboxes are logged one at a time. */
export type LoggedSection =
  | 'transportConfig'
  | 'organizationConfig'
  | 'authenticationPolicies'
  | 'historicalSearches'
  | 'servicePrincipals'
  | 'managementScopes'
  | 'managementRoleAssignments'
  | 'mailboxPermissions';

/** The mailbox fields a simulated cmdlet can change. */
const MUTABLE_MAILBOX_FIELDS = ['SmtpClientAuthenticationDisabled', 'AuthenticationPolicy'] as const;

interface LogHeader {
  changeLogFor: { ino: number; size: number; mtimeMs: number };
}

type LogLine =
  // `at`: the mailbox's place in state.mailboxes (cmdlets never add or remove mailboxes), checked
  // against its Guid: hand-made tenants may repeat a Guid, and a place never does.
  | { mailbox: string; at: number; set: Partial<Pick<SimMailbox, (typeof MUTABLE_MAILBOX_FIELDS)[number]>> }
  | { section: LoggedSection; value: unknown };

export function changeLogPath(statePath: string): string {
  return `${statePath}.changes`;
}

/** The fingerprint a log header records: the identity of the state file it extends. */
async function fileIdentity(statePath: string): Promise<LogHeader['changeLogFor']> {
  const s = await stat(statePath);
  return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

function sameIdentity(a: LogHeader['changeLogFor'], b: LogHeader['changeLogFor']): boolean {
  // Times within 1 µs: the stub module (PowerShell, .NET) writes headers too, and .NET keeps 100 ns
  // ticks where Node keeps nanoseconds.
  return a.ino === b.ino && a.size === b.size && Math.abs(a.mtimeMs - b.mtimeMs) < 0.001;
}

/**
 * Replays the log onto a freshly loaded state, when the log belongs to this file. Returns how many
 * changes it applied (a test hook, and `sim show` says so).
 */
export async function replayChangeLog(statePath: string, state: TenantState): Promise<number> {
  const read = await readRegularFile(changeLogPath(statePath), { maxBytes: MAX_CHANGE_LOG_BYTES });
  if (!read.ok && read.reason === 'missing') return 0;
  if (!read.ok) throw new Error(read.detail);
  const text = read.bytes.toString('utf8');
  return text === '' ? 0 : applyChangeLog(text, await fileIdentity(statePath), state);
}

/** The same, synchronously (tests and tools that read a tenant between two CLI runs). */
export function replayChangeLogSync(statePath: string, state: TenantState): number {
  const read = readRegularFileSync(changeLogPath(statePath), { maxBytes: MAX_CHANGE_LOG_BYTES });
  if (!read.ok && read.reason === 'missing') return 0;
  if (!read.ok) throw new Error(read.detail);
  const text = read.bytes.toString('utf8');
  const s = statSync(statePath);
  return text === '' ? 0 : applyChangeLog(text, { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs }, state);
}

function applyChangeLog(text: string, file: LogHeader['changeLogFor'], state: TenantState): number {
  const lines = text.split('\n');
  // The last element is '' when the file ends with a newline; otherwise it is a torn append: drop it.
  lines.pop();
  const header = parseLine<LogHeader>(lines.shift());
  if (!header?.changeLogFor || !sameIdentity(header.changeLogFor, file)) return 0;
  let applied = 0;
  for (const raw of lines) {
    const line = parseLine<LogLine>(raw);
    if (!line) continue;
    if ('mailbox' in line) {
      const mailbox = state.mailboxes[line.at];
      if (!mailbox || mailbox.Guid !== line.mailbox) continue;
      for (const field of MUTABLE_MAILBOX_FIELDS) {
        if (field in line.set) (mailbox as unknown as Record<string, unknown>)[field] = line.set[field];
      }
    } else {
      (state as unknown as Record<string, unknown>)[line.section] = line.value;
    }
    applied++;
  }
  return applied;
}

function parseLine<T>(raw: string | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

function lineFor(change: TenantChange, state: TenantState, placeOf: (m: SimMailbox) => number): string {
  if ('mailbox' in change) {
    const set: Record<string, unknown> = {};
    for (const field of MUTABLE_MAILBOX_FIELDS) set[field] = change.mailbox[field];
    return JSON.stringify({ mailbox: change.mailbox.Guid, at: placeOf(change.mailbox), set });
  }
  return JSON.stringify({ section: change.section, value: state[change.section] });
}

/** The appending side, one per open tenant. Appends and folds must not overlap: the caller serializes them. */
export class ChangeLog {
  private lines = 0;
  private started = false;

  constructor(private readonly statePath: string) {}

  private places: Map<SimMailbox, number> | null = null;

  get pending(): number {
    return this.lines;
  }

  private placeOf(mailbox: SimMailbox, state: TenantState): number {
    this.places ??= new Map(state.mailboxes.map((m, i) => [m, i]));
    const place = this.places.get(mailbox);
    if (place === undefined) throw new Error(`mailbox ${mailbox.Guid} is not in the tenant`);
    return place;
  }

  /** Appends the changes in one write (a kill leaves all of them or a torn last line). */
  async append(changes: readonly TenantChange[], state: TenantState): Promise<void> {
    if (changes.length === 0) return;
    const text: string[] = [];
    if (!this.started) {
      // A log left by a process that was killed was replayed at load; start a new one for this file.
      const header: LogHeader = { changeLogFor: await fileIdentity(this.statePath) };
      text.push(JSON.stringify(header));
    }
    for (const change of changes) text.push(lineFor(change, state, (m) => this.placeOf(m, state)));
    const file = await open(changeLogPath(this.statePath), this.started ? 'a' : 'w', 0o600);
    try {
      await file.write(text.join('\n') + '\n');
    } finally {
      await file.close();
    }
    this.started = true;
    this.lines += changes.length;
  }

  /** After the state file was rewritten whole: the log is folded into it. */
  async folded(): Promise<void> {
    await rm(changeLogPath(this.statePath), { force: true });
    this.started = false;
    this.lines = 0;
  }
}

/**
 * When to fold the log into the file: often enough that loading stays quick, rarely enough that the
 * rewrite (about 1.2 µs a mailbox) costs a constant amount per write on average, whatever the size.
 */
export function shouldFold(pendingChanges: number, mailboxes: number): boolean {
  return pendingChanges >= Math.max(1000, Math.ceil(mailboxes / 10));
}
