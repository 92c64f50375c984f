/**
 * Reading and writing the state file (docs/STATE-FILE.md). Writes are atomic (temp file in the same
 * directory, then rename) so a process killed mid-write leaves either the old or the new tenant, never
 * half of one. Large lists are written one object a line: the file stays diffable, and a 100,000
 * mailbox tenant is written in chunks instead of one giant string.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError } from '../../errors.js';
import { replayChangeLog } from './change-log.js';
import type { SimMailbox, TenantState } from './state.js';

const CHUNK_BYTES = 1 << 20;

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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new InputError(`simulated tenant state file not found: ${path} (create one with \`exo-playbook sim init ${path}\`)`);
    }
    throw new InputError(`cannot read simulated tenant state file ${path}: ${(error as Error).message}`);
  }
  return parseState(text, path);
}

export function parseState(text: string, path: string): TenantState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${path} is not valid JSON: ${(error as Error).message} (recreate it with \`exo-playbook sim init ${path} --force\`)`);
  }
  const state = parsed as Partial<TenantState> | null;
  if (!state || typeof state !== 'object' || state.schemaVersion !== 1) {
    throw new InputError(`${path} is not a simulated tenant state file (schemaVersion 1 expected; see docs/STATE-FILE.md)`);
  }
  for (const key of ['organization', 'transportConfig', 'mailboxes'] as const) {
    if (state[key] === undefined) throw new InputError(`${path}: the state file has no "${key}" (see docs/STATE-FILE.md)`);
  }
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

export async function writeStateFile(path: string, state: TenantState, cache?: MailboxLineCache): Promise<void> {
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
