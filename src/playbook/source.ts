/**
 * Reading playbook and allowlist text safely: a size cap (a hostile or mistaken file must not eat
 * memory), strict UTF-8 (a mis-encoded address would silently name another mailbox), and offset →
 * line:col for messages.
 */
import { readRegularFile } from '../files/regular-file.js';
import type { SourceLocation } from '../errors.js';

/** Playbooks and allowlist files are small; anything above this is a mistake or an attack. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/**
 * The usage CSV (smtp-auth/usage report:): the admin center's export runs to one row per sender and
 * day, about 100 bytes a row; 16 MiB holds 90 days of a large tenant. A bigger file is refused
 * before it is read: every row is kept in memory and in reports (measured: a 13.7 MB CSV of 150,000
 * rows takes `plan --format json` to about 750 MB resident, so 50 MB would not fit a jump host).
 */
export const MAX_USAGE_REPORT_BYTES = 16 * 1024 * 1024;

export type SourceReadResult = { ok: true; text: string } | { ok: false; reason: 'missing' | 'too-large' | 'not-utf8' | 'unreadable'; detail: string };

export function decodeSource(bytes: Uint8Array): SourceReadResult {
  if (bytes.byteLength > MAX_SOURCE_BYTES) {
    return { ok: false, reason: 'too-large', detail: `${bytes.byteLength} bytes is over the ${MAX_SOURCE_BYTES}-byte limit` };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    return { ok: true, text };
  } catch {
    return { ok: false, reason: 'not-utf8', detail: 'the file is not valid UTF-8' };
  }
}

export function checkTextSize(text: string): SourceReadResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes > MAX_SOURCE_BYTES
    ? { ok: false, reason: 'too-large', detail: `${bytes} bytes is over the ${MAX_SOURCE_BYTES}-byte limit` }
    : { ok: true, text };
}

/** Reads a file from disk under the size cap, decoding strictly. Never throws for user-caused failures. */
export async function readSourceFile(absolutePath: string): Promise<SourceReadResult> {
  const read = await readRegularFile(absolutePath, { maxBytes: MAX_SOURCE_BYTES });
  if (!read.ok) return { ok: false, reason: read.reason === 'missing' || read.reason === 'too-large' ? read.reason : 'unreadable', detail: read.detail };
  return decodeSource(read.bytes);
}

/** The default LoadOptions.readFile: throws an Error with `code` like fs does. */
export async function readTextFile(absolutePath: string): Promise<string> {
  const result = await readSourceFile(absolutePath);
  if (result.ok) return result.text;
  throw Object.assign(new Error(result.detail), { code: result.reason === 'missing' ? 'ENOENT' : result.reason });
}

/** Maps character offsets of one text to 1-based line:col. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(
    readonly file: string,
    text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  at(offset: number): SourceLocation {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { file: this.file, line: low + 1, col: offset - this.starts[low]! + 1 };
  }
}
