/**
 * The usage step's memory: the senders the previous `verify` saw, and the readings of each source it
 * read (with their periods), in a small JSON file the playbook names (`history:`). The next run
 * reports senders that were not there (a device nobody told the admin about); any playbook naming the
 * same file reads the saved readings as evidence of its own (each with its recorded period, so the
 * lockout guard judges its age), and warns about senders they name that its own sources do not.
 * Written atomically (temp file + rename); a file that is not ours is a located error, never silently
 * replaced.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../../../errors.js';
import { readUsageFile, UsageFileError } from './decode.js';
import { SOURCE_LABELS, type SourceReading, type UsageSourceKind } from './evidence.js';
import { confinedPath } from '../../../playbook/confined-file.js';
import { errnoWords } from '../../../files/regular-file.js';

export interface UsageHistory {
  kind: 'exo-playbook/usage-history';
  playbook: string;
  /** When the previous run observed (ISO). */
  at: string;
  senders: string[];
  /** What each source that run read showed, with its period (absent in files written before). */
  readings?: SourceReading[];
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
  const readings = h.readings === undefined ? undefined : savedReadings(h.readings, shownAs);
  return { kind: h.kind, playbook: typeof h.playbook === 'string' ? h.playbook : 'unknown', at: h.at, senders: h.senders, ...(readings ? { readings } : {}) };
}

const ISO = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The saved readings, checked field by field: evidence the guard trusts must have the shape it was written in. */
function savedReadings(value: unknown, shownAs: string): SourceReading[] {
  const bad = (why: string) =>
    new InputError(`the usage history ${shownAs} has a reading that is not as exo-playbook wrote it (${why})`, { file: shownAs, line: 1, col: 1 }, 'delete it; the next verify writes a fresh one');
  if (!Array.isArray(value)) throw bad('readings is not a list');
  return value.map((r: Partial<SourceReading> | null) => {
    if (!r || typeof r !== 'object' || !(typeof r.source === 'string' && r.source in SOURCE_LABELS)) throw bad('unknown source');
    if (!Array.isArray(r.senders) || !r.senders.every((s) => s && typeof s === 'object' && typeof s.sender === 'string')) throw bad('senders');
    if (!ISO(r.windowStart) || !ISO(r.windowEnd)) throw bad('its period');
    return {
      source: r.source as UsageSourceKind,
      label: typeof r.label === 'string' ? r.label : '',
      window: typeof r.window === 'string' ? r.window : '',
      blindSpots: strings(r.blindSpots),
      complete: r.complete === true,
      warnings: strings(r.warnings),
      windowStart: r.windowStart,
      windowEnd: r.windowEnd,
      ...(typeof r.periodFrom === 'string' ? { periodFrom: r.periodFrom } : {}),
      ...(typeof r.key === 'string' && ['report', 'requestReport', 'signInLogs', 'emailAppUsage'].includes(r.key) ? { key: r.key } : {}),
      ...(r.savedBy && typeof r.savedBy.playbook === 'string' && ISO(r.savedBy.at) && typeof r.savedBy.file === 'string' ? { savedBy: { playbook: r.savedBy.playbook, at: r.savedBy.at, file: r.savedBy.file } } : {}),
      senders: r.senders.map((s) => ({
        sender: s.sender.toLowerCase(),
        protocols: strings(s.protocols).filter((p): p is 'Basic' | 'OAuth' | 'Unknown' => ['Basic', 'OAuth', 'Unknown'].includes(p)),
        messages: typeof s.messages === 'number' ? s.messages : null,
        firstSeen: ISO(s.firstSeen) ? s.firstSeen : null,
        lastSeen: ISO(s.lastSeen) ? s.lastSeen : null,
        clientIps: strings(s.clientIps),
        tlsVersions: strings(s.tlsVersions),
        ...(typeof s.failures === 'number' ? { failures: s.failures } : {}),
        ...(ISO(s.lastEmailAppActivity) ? { lastEmailAppActivity: s.lastEmailAppActivity } : {}),
      })),
    };
  });
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
