/**
 * --log-file: one JSON line per RunEvent, appended and written synchronously so a run that is
 * killed still leaves every event before the kill on disk. A scheduled job has no terminal: this
 * file is what the operator reads the next morning, so it must never carry a secret.
 */
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
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
  close(): void;
}

/**
 * Creates the missing folders of `dir` one level at a time. Not mkdirSync({ recursive: true }): on
 * a path under /proc that never ends (each mkdir says ENOENT and Node tries the parent again).
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!existsSync(current)) {
    missing.unshift(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing) mkdirSync(folder);
}

/** Open (append) the log file; the directory is created when missing. */
export function openEventLog(file: string, options: EventLogOptions = {}): EventLog {
  makeFolders(dirname(file));
  let fd: number | null = openSync(file, 'a', 0o600);
  return {
    file,
    emit(event: RunEvent) {
      if (fd === null) return;
      writeSync(fd, JSON.stringify(redact(event, options.secrets)) + '\n');
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
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
