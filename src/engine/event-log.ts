/**
 * --log-file: one JSON line per RunEvent, appended and written synchronously so a run that is
 * killed still leaves every event before the kill on disk. A scheduled job has no terminal: this
 * file is what the operator reads the next morning, so it must never carry a secret.
 */
import { closeSync } from 'node:fs';
import { errnoWords, fileError, makeFolders, openOutputFileSync, writeAllSync, type FileRole } from '../files/regular-file.js';
import { dirname } from 'node:path';
import type { EventSink, RunEvent } from './types.js';

export const REDACTED = '[redacted]';

/** Field names whose values are secrets wherever they appear (compared case-insensitively). */
const SECRET_KEY = /(token|password|secret|webhook|certificatepassword|authorization|apikey|clientsecret)/i;

export interface EventLogOptions {
  /** Literal secret values (tokens, the webhook URL) to cut out of any string, wherever they appear. */
  secrets?: readonly string[];
}

/** A deep copy of `value` with secret-named fields and known secret strings replaced by REDACTED. */
export function redact(value: unknown, secrets: readonly string[] = []): unknown {
  const known = secrets.filter((s) => s.length >= 4);
  const scrub = (text: string) => known.reduce((t, s) => t.split(s).join(REDACTED), text);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).map(([k, inner]) => [
          k,
          SECRET_KEY.test(k) && inner !== null && inner !== undefined && inner !== false ? REDACTED : walk(inner),
        ]),
      );
    }
    return v;
  };
  return walk(value);
}

export interface EventLog extends EventSink {
  readonly file: string;
  /** The first write that failed (a full disk): the run must not end as if the log were whole. */
  readonly failure: Error | undefined;
  /** Closes the file; throws the InputError of the first failed write, if any. */
  close(): void;
}

const LOG_ROLE: FileRole = { what: 'the log file', option: '--log-file', hint: 'point --log-file at a regular file in a folder this account can write to' };

/**
 * Open (append) the log file; the folder is created when missing. Only a regular file is accepted
 * (a FIFO, /dev/full or a folder is refused before the run starts: src/files/regular-file.ts).
 */
export function openEventLog(file: string, options: EventLogOptions = {}): EventLog {
  makeFolders(dirname(file), LOG_ROLE, undefined, file);
  let fd: number | null = openOutputFileSync(file, { ...LOG_ROLE, mode: 'append' });
  let failure: Error | undefined;
  return {
    file,
    get failure() {
      return failure;
    },
    emit(event: RunEvent) {
      if (fd === null || failure) return;
      try {
        writeAllSync(fd, JSON.stringify(redact(event, options.secrets)) + '\n', file, LOG_ROLE);
      } catch (error) {
        failure = error instanceof Error ? error : fileError('write', file, LOG_ROLE, errnoWords(error));
        throw failure;
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
      if (failure) throw failure;
    },
  };
}

/** Send every event to every sink; one failing sink (a full disk) must not stop the run. */
export function fanOut(sinks: readonly EventSink[], onSinkError?: (error: unknown) => void): EventSink {
  return {
    emit(event) {
      for (const sink of sinks) {
        try {
          sink.emit(event);
        } catch (error) {
          onSinkError?.(error);
        }
      }
    },
  };
}
