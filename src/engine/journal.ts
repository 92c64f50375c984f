/**
 * The run journal: append-only JSON lines, so that a process killed at any moment leaves a file that
 * says exactly which writes happened. A "before" record without its "after" means the write may or may
 * not have reached the tenant: rollback re-reads to find out.
 *
 * Every record is written at once (a killed process loses nothing: the kernel has it). fsync, which
 * only matters if the machine itself goes down, runs before append() returns for every record except
 * an "after": that one is fsync'ed with the next record (the next write's "before", or run-end, or at
 * close). So no write starts before its own "before" and every earlier record are on disk, as with an
 * fsync per record, at one fsync per write instead of two (each costs milliseconds on a busy disk).
 * A machine crash between an "after" and the next record leaves that write without its "after":
 * the same "may or may not have reached the tenant" as a crash during the write, and no write follows.
 */
import { closeSync, fsync, fsyncSync } from 'node:fs';
import { openOutputFileSync, readInputTextSync, writeAllSync, type FileRole } from '../files/regular-file.js';

const JOURNAL_ROLE: FileRole = { what: 'the journal', option: '--runs-dir', hint: 'point --runs-dir at a folder on a disk with room, writable by this account' };
import type { ServiceErrorParts } from '../exchange/service-error.js';
import type { CmdletParameters, PsValue } from '../exchange/session.js';
import { InputError } from '../errors.js';
import type { PlaybookRef, TenantRef } from './types.js';

interface RecordBase {
  seq: number;
  /** ISO-8601 UTC */
  at: string;
}

export interface RunStartRecord extends RecordBase {
  type: 'run-start';
  kind: 'apply' | 'rollback';
  playbook: PlaybookRef;
  tenant: TenantRef;
  host: string;
  pid: number;
  /** For a rollback: the run directory it undoes. */
  undoes?: string;
}

export interface BeforeWriteRecord extends RecordBase {
  type: 'before';
  changeId: string;
  stepId: string;
  /** The address, for humans. */
  target: string;
  /** The immutable id the write named the mailbox by (Guid), when it has one. */
  targetId?: string;
  property: string;
  /** The exact value observed before the write (tri-state: null is $null). */
  before: PsValue;
  after: PsValue;
  cmdlet: string;
  /** Redacted. */
  parameters: CmdletParameters;
  /** The call that restores `before` (redacted), or null when the change cannot be undone. */
  undo: { cmdlet: string; parameters: CmdletParameters } | null;
  /** Why the playbook let a write run whose effect on SMTP AUTH is not derived (Change.accepted). */
  accepted?: string;
}

/**
 * What a read-back found after a write whose reply never came (the host died, a timeout, a lost
 * connection): the value it read, and whether that is the written value (applied), the value before
 * (not-applied), or neither or nothing (unknown: the read failed or someone else changed it).
 */
export interface ReadBackRecord {
  verdict: 'applied' | 'not-applied' | 'unknown';
  /** The value read (absent when the read itself failed). */
  value?: PsValue;
  /** Why the read-back could not tell. */
  error?: string;
}

export interface AfterWriteRecord extends RecordBase {
  type: 'after';
  changeId: string;
  /**
   * applied: the tenant has the value (the reply said so, or a read-back after a lost reply showed it);
   * failed: it does not (the cmdlet refused, or a read-back showed the before-value);
   * unknown: the reply was lost and the read-back could not tell. Rollback re-reads failed and unknown
   * writes and restores the before-value where it differs.
   */
  outcome: 'applied' | 'failed' | 'unknown';
  /** Present when the write's reply was lost and the value was read back to find out. */
  readBack?: ReadBackRecord;
  error?: string;
  /** The service's error, taken apart: code, exception type, text (and HTTP status for the REST form). */
  serviceError?: ServiceErrorParts;
  attempts: number;
  durationMs: number;
  warnings: string[];
  result?: PsValue;
}

export interface RunEndRecord extends RecordBase {
  type: 'run-end';
  summary: { applied: number; failed: number; skipped: number };
  interrupted: boolean;
  /** The run ended on an error after it started writing (e.g. a read failed during the verify after apply). */
  error?: string;
}

/**
 * The outcome of an OAuth proof (smtp-auth/oauth-senders) in the verify after apply, one per app ×
 * mailbox: "proven", or the server's (or Entra's) line and what it usually means. It records no write:
 * rollback and every other reader look only at the record types they know and skip it. Never a
 * secret or a token: the evidence is the answer's line, as the report prints it.
 */
export interface ProofRecord extends RecordBase {
  type: 'proof';
  stepId: string;
  /** The app's display name and id. */
  app: string;
  appId: string;
  mailbox: string;
  outcome: 'proven' | 'refused' | 'no-token' | 'unreachable' | 'not-run';
  meaning: string;
  /** The server's exact line, the token service's error, or why no proof ran. */
  evidence: string;
  /** When the sign-in was tried (ISO-8601 UTC). */
  provedAt: string;
}

export type JournalRecord = RunStartRecord | BeforeWriteRecord | AfterWriteRecord | ProofRecord | RunEndRecord;
type Unsequenced<R> = R extends JournalRecord ? Omit<R, 'seq' | 'at'> : never;

export class Journal {
  private fd: number | null;
  private seq = 0;
  /** Written but not yet fsync'ed (an "after" record). */
  private unsynced = false;

  private constructor(
    readonly path: string,
    private readonly now: () => Date,
  ) {
    // 'a': appending never rewrites what an earlier (possibly killed) writer left.
    this.fd = openOutputFileSync(path, { ...JOURNAL_ROLE, mode: 'append' });
  }

  static open(path: string, now: () => Date = () => new Date()): Journal {
    return new Journal(path, now);
  }

  /** Returns once the record is written, and on disk with every earlier one unless it is an "after" (see above). */
  append(record: Unsequenced<JournalRecord>): JournalRecord {
    const full = this.write(record);
    if (full.type === 'after') this.unsynced = true;
    else this.sync();
    return full;
  }

  /**
   * The same, for parallel writers: the fsync (when there is one) runs off the event loop, so the
   * other writers' calls go on meanwhile (with --concurrency 3, blocking fsyncs held every writer up).
   * The line itself is written at once, in order; the promise resolves once it is on disk with every
   * earlier one, or at once for an "after" (fsync'ed with the next record, as with append()).
   */
  async appendDurable(record: Unsequenced<JournalRecord>): Promise<JournalRecord> {
    const full = this.write(record);
    if (full.type === 'after') {
      this.unsynced = true;
      return full;
    }
    const fd = this.fd!;
    this.unsynced = false;
    await new Promise<void>((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
    return full;
  }

  private write(record: Unsequenced<JournalRecord>): JournalRecord {
    if (this.fd === null) throw new Error(`journal ${this.path} is closed`);
    this.seq += 1;
    const full = { seq: this.seq, at: this.now().toISOString(), ...record } as JournalRecord;
    writeAllSync(this.fd, `${JSON.stringify(full)}\n`, this.path, JOURNAL_ROLE);
    return full;
  }

  close(): void {
    if (this.fd !== null) {
      try {
        if (this.unsynced) this.sync();
      } finally {
        closeSync(this.fd);
        this.fd = null;
      }
    }
  }

  private sync(): void {
    fsyncSync(this.fd!);
    this.unsynced = false;
  }
}

/** The largest journal read: two records a write, well under 1 KiB each, for 100,000 writes is ~200 MB. */
export const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

/**
 * Reads a journal. A torn last line (the process died inside a write(2)) is ignored: its write had
 * not started, because the "before" record is on disk before the cmdlet runs.
 */
export function readJournal(path: string): JournalRecord[] {
  const text = readInputTextSync(path, { maxBytes: MAX_JOURNAL_BYTES, what: 'the journal', option: 'rollback <run-dir>', hint: 'pass a run directory made by `exo-playbook apply`' });
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const records: JournalRecord[] = [];
  lines.forEach((line, index) => {
    try {
      records.push(JSON.parse(line) as JournalRecord);
    } catch {
      if (index !== lines.length - 1) {
        throw new InputError(`the journal is damaged`, { file: path, line: index + 1, col: 1 }, 'only the last line may be torn; restore the file from backup');
      }
    }
  });
  return records;
}
