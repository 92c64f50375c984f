/**
 * Reading and writing the state file (docs/STATE-FILE.md). Writes are atomic (temp file in the same
 * directory, then rename) so a process killed mid-write leaves either the old or the new tenant, never
 * half of one. Large lists are written one object a line: the file stays diffable, and a 100,000
 * mailbox tenant is written in chunks instead of one giant string.
 */
import { open, realpath, rename, rm } from 'node:fs/promises';
import { readRegularFile } from '../../files/regular-file.js';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../../errors.js';
import { replayChangeLog } from './change-log.js';
import type { SimMailbox, TenantState } from './state.js';

const CHUNK_BYTES = 1 << 20;
/** A 100,000-mailbox tenant is about 60 MB (a JavaScript string holds at most ~512 MiB); its change log is capped alike. */
export const MAX_STATE_FILE_BYTES = 256 * 1024 * 1024;

/** The tenant a state file holds: the file, plus the changes its change log adds (change-log.ts). */
export async function readStateFile(path: string): Promise<TenantState> {
  return (await loadStateFile(path)).state;
}

/** Like readStateFile, and says how many logged changes were replayed on top of the file. */
export async function loadStateFile(path: string): Promise<{ state: TenantState; replayed: number }> {
  const state = await readStateFileOnly(path);
  let replayed: number;
  try {
    replayed = await replayChangeLog(path, state);
  } catch (error) {
    throw new InputError(`cannot read the change log of the simulated tenant ${path}: ${(error as Error).message}`);
  }
  return { state, replayed };
}

async function readStateFileOnly(path: string): Promise<TenantState> {
  // A FIFO, a device or a file over the cap is refused at once, never waited on (src/files).
  const read = await readRegularFile(path, { maxBytes: MAX_STATE_FILE_BYTES });
  if (!read.ok && read.reason === 'missing') {
    throw new InputError(`simulated tenant state file not found: ${path} (create one with \`exo-playbook sim init ${path}\`)`);
  }
  if (!read.ok) throw new InputError(`cannot read simulated tenant state file ${path}: ${read.detail}`);
  const text = read.bytes.toString('utf8');
  return parseState(text, path);
}

export function parseState(text: string, path: string): TenantState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not valid JSON: ${(error as Error).message} (restore it from a copy, or delete it and make a new one with \`exo-playbook sim init\`)`);
  }
  const state = parsed as Partial<TenantState> | null;
  if (!state || typeof state !== 'object' || state.schemaVersion !== 1) {
    throw new InputError(`${path} is not a simulated tenant state file (schemaVersion 1 expected; see docs/STATE-FILE.md)`);
  }
  for (const key of ['organization', 'transportConfig', 'mailboxes'] as const) {
    if (state[key] === undefined) throw new InputError(`${path}: the state file has no "${key}" (see docs/STATE-FILE.md)`);
  }
  checkStateShape(state as Record<string, unknown>, path);
  // Optional parts a hand-written file may leave out.
  state.organizationConfig ??= { DefaultAuthenticationPolicy: null };
  state.authenticationPolicies ??= [];
  state.historicalSearches ??= [];
  state.smtpAuthActivity ??= [];
  state.clock ??= null;
  state.historicalSearchPolls ??= 3;
  state.faults ??= {};
  return state as TenantState;
}

/**
 * The parts the simulator reads, checked once at load: a hand-edited file with a wrong type there
 * is an input error naming the field (not a crash deep inside a cmdlet, or a silently wrong clock).
 * Parts other workstreams add (more fault knobs, usage data) are left to their readers.
 */
function checkStateShape(state: Record<string, unknown>, path: string): void {
  const fail = (field: string, expected: string): never => {
    throw new InputError(`${path}: ${field} must be ${expected} (see docs/STATE-FILE.md)`, undefined, 'fix the field, or make a new tenant with `exo-playbook sim init`');
  };
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isTri = (v: unknown) => v === true || v === false || v === null;
  const organization = state.organization;
  if (!isObject(organization) || typeof organization.Name !== 'string' || organization.Name === '') fail('organization.Name', 'the tenant name, e.g. "contoso.onmicrosoft.com"');
  if (organization && isObject(organization) && organization.Server !== undefined && typeof organization.Server !== 'string') fail('organization.Server', 'a string');
  const transport = state.transportConfig;
  if (!isObject(transport) || typeof transport.SmtpClientAuthenticationDisabled !== 'boolean') fail('transportConfig.SmtpClientAuthenticationDisabled', 'true or false');
  if (!Array.isArray(state.mailboxes)) fail('mailboxes', 'a list');
  (state.mailboxes as unknown[]).forEach((mailbox, i) => {
    if (!isObject(mailbox)) return fail(`mailboxes[${i}]`, 'an object');
    for (const key of ['Guid', 'PrimarySmtpAddress'] as const) if (typeof mailbox[key] !== 'string') fail(`mailboxes[${i}].${key}`, 'a string');
    if (!isTri(mailbox.SmtpClientAuthenticationDisabled)) fail(`mailboxes[${i}].SmtpClientAuthenticationDisabled`, 'true, false or null');
    if (mailbox.EmailAddresses !== undefined && !Array.isArray(mailbox.EmailAddresses)) fail(`mailboxes[${i}].EmailAddresses`, 'a list');
  });
  for (const key of ['authenticationPolicies', 'historicalSearches', 'smtpAuthActivity'] as const) {
    if (state[key] !== undefined && !Array.isArray(state[key])) fail(key, 'a list');
  }
  if (state.clock !== undefined && state.clock !== null) {
    if (typeof state.clock !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(state.clock) || Number.isNaN(Date.parse(state.clock))) {
      fail('clock', 'null (the real clock) or an ISO-8601 UTC time such as "2026-11-20T09:00:00Z"');
    }
  }
  if (state.historicalSearchPolls !== undefined && !(Number.isInteger(state.historicalSearchPolls) && (state.historicalSearchPolls as number) >= 0)) {
    fail('historicalSearchPolls', 'a whole number, 0 or more');
  }
  if (state.faults !== undefined && !isObject(state.faults)) fail('faults', 'an object');
}

/**
 * Remembers each mailbox's serialized line between saves of one tenant. Serializing 100,000 mailboxes
 * dominates the cost of a save, and a Set changes one of them; a line is reused only while the
 * mailbox's mutable fields still have the values it was made from.
 */
export class MailboxLineCache {
  private readonly lines = new WeakMap<SimMailbox, { line: string; smtp: SimMailbox['SmtpClientAuthenticationDisabled']; policy: string | null }>();

  line(mailbox: SimMailbox): string {
    const cached = this.lines.get(mailbox);
    if (cached && cached.smtp === mailbox.SmtpClientAuthenticationDisabled && cached.policy === mailbox.AuthenticationPolicy) return cached.line;
    const line = JSON.stringify(mailbox);
    this.lines.set(mailbox, { line, smtp: mailbox.SmtpClientAuthenticationDisabled, policy: mailbox.AuthenticationPolicy });
    return line;
  }
}

/** The file's text, produced piece by piece: top level indented, list items one a line. */
export function* serializeState(state: TenantState, cache?: MailboxLineCache): Generator<string> {
  const entries = Object.entries(state);
  yield '{\n';
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i]!;
    const comma = i < entries.length - 1 ? ',' : '';
    if (Array.isArray(value) && value.length > 0) {
      yield `  ${JSON.stringify(key)}: [\n`;
      for (let j = 0; j < value.length; j++) {
        const line = cache && key === 'mailboxes' ? cache.line(value[j] as SimMailbox) : JSON.stringify(value[j]);
        yield `    ${line}${j < value.length - 1 ? ',' : ''}\n`;
      }
      yield `  ]${comma}\n`;
    } else {
      yield `  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}\n`;
    }
  }
  yield '}\n';
}

export async function writeStateFile(given: string, state: TenantState, cache?: MailboxLineCache): Promise<void> {
  // Write through a symlink to the file it names: renaming over the link would replace the link
  // with a copy, and the tenant behind it would silently stop changing.
  const path = await realpath(given).catch(() => given);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const file = await open(temp, 'w', 0o600);
  try {
    let pending: string[] = [];
    let size = 0;
    for (const piece of serializeState(state, cache)) {
      pending.push(piece);
      size += piece.length;
      if (size >= CHUNK_BYTES) {
        await file.write(pending.join(''));
        pending = [];
        size = 0;
      }
    }
    if (pending.length > 0) await file.write(pending.join(''));
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
}
