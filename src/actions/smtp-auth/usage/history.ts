/**
 * The drift check's memory: the senders the previous `verify` of this playbook saw, in a small JSON
 * file the playbook names (`history:`). The next run reports senders that were not there: a device
 * nobody told the admin about. Written atomically (temp file + rename); a file that is not ours is a
 * located error, never silently replaced.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../../errors.js';
import { readUsageFile, UsageFileError } from './decode.js';
import { confinedPath } from '../../../playbook/confined-file.js';
import { errnoWords } from '../../../files/regular-file.js';

export interface UsageHistory {
  kind: 'exo-playbook/usage-history';
  playbook: string;
  /** When the previous run observed (ISO). */
  at: string;
  senders: string[];
}

export async function readHistory(file: string, shownAs: string, roots: readonly string[]): Promise<UsageHistory | null> {
  let bytes: Buffer;
  try {
    bytes = await readUsageFile(file, shownAs, 'usage history', { roots, maxBytes: 16 * 1024 * 1024 });
  } catch (error) {
    // No history yet: the first run of the drift check.
    if (error instanceof UsageFileError && error.reason === 'missing') return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InputError(`the usage history ${shownAs} is not JSON: ${(error as Error).message}`, { file: shownAs, line: 1, col: 1 }, 'delete it; the next verify writes a fresh one');
  }
  const h = parsed as Partial<UsageHistory> | null;
  if (!h || h.kind !== 'exo-playbook/usage-history' || !Array.isArray(h.senders) || typeof h.at !== 'string' || !h.senders.every((s) => typeof s === 'string')) {
    throw new InputError(`${shownAs} is not a usage history written by exo-playbook`, { file: shownAs, line: 1, col: 1 }, 'point `history:` at a file of its own (it is created on the first verify)');
  }
  return h as UsageHistory;
}

/**
 * Writes the history atomically. With roots, the file must resolve inside them (the load-time check,
 * src/playbook/referenced-files.ts, refuses `history:` outside at its line; this is the last word
 * before a byte is written). A failed write is an InputError, never a silently lost history.
 */
export async function writeHistory(file: string, history: UsageHistory, roots: readonly string[] = []): Promise<void> {
  const where = await confinedPath(file, roots, { mayBeMissing: true });
  if (!where.ok) throw new InputError(`cannot write the usage history ${file}: ${where.detail}`, undefined, "point `history:` at a file inside the playbook's folder (or a folder under fileRoots:)");
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    handle = await open(temp, 'w', 0o600);
  } catch (error) {
    throw new InputError(`cannot write the usage history ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, undefined, 'point `history:` at a file in a folder the runner can write');
  }
  try {
    await handle.write(`${JSON.stringify(history, null, 2)}\n`);
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error instanceof InputError ? error : new InputError(`cannot write the usage history ${file}: ${errnoWords(error)}`, undefined, 'point `history:` at a file in a folder the runner can write');
  }
}
