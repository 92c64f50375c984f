/**
 * Usage files as they arrive from Microsoft: the admin center exports UTF-8 (with or without a BOM),
 * the historical search's request-report download is UTF-16 ("Import-Csv -Encoding Unicode" in the
 * wild), and a file re-saved by a spreadsheet may be UTF-16 big-endian. Bytes become text here, with
 * a size cap and a strict decoder: a broken encoding is a located error, never mojibake that later
 * looks like a sender.
 */
import { InputError } from '../../../errors.js';
import { readConfinedFile, type ConfinedReadFailure, type ConfineOptions } from '../../../playbook/confined-file.js';

/** 64 MiB: a 100,000-row request report (the service's cap) in UTF-16 is about 50 MB; anything beyond is not one. */
export const MAX_REQUEST_REPORT_BYTES = 64 * 1024 * 1024;

export type TextEncodingName = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be';

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

/**
 * Reads a usage file the playbook names, through the confined reader (src/playbook/confined-file.ts):
 * inside the playbook's folder or its fileRoots, a regular file, at most `maxBytes` (+1 read to detect
 * more), so a huge, endless or special file never fills memory or hangs. Messages never quote content.
 */
export async function readUsageFile(file: string, shownAs: string, what: string, options: ConfineOptions): Promise<Buffer> {
  const read = await readConfinedFile(file, options);
  if (read.ok) return read.bytes;
  if (read.reason === 'too-large') {
    throw new InputError(
      `the ${what} ${shownAs} is larger than ${Math.round(options.maxBytes / 1024 / 1024)} MiB: not a report Microsoft exports`,
      { file: shownAs, line: 1, col: 1 },
      'export a shorter period, or split the file',
    );
  }
  throw new UsageFileError(read.reason, `cannot read the ${what} ${shownAs}: ${read.detail}`, "paths in `with` are relative to the playbook's folder (or one of its fileRoots)");
}

/** A usage file that cannot be read; `reason` lets a caller treat a missing file as "none yet". */
export class UsageFileError extends InputError {
  constructor(
    readonly reason: ConfinedReadFailure['reason'],
    message: string,
    hint: string,
  ) {
    super(message, undefined, hint);
  }
}

/** BOM first; without one, NUL bytes in every other position mean UTF-16 (the request report). */
export function decodeUsageText(bytes: Buffer, file: string): DecodedText {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { text: strictUtf8(bytes.subarray(3), file, 3), encoding: 'utf-8-bom' };
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { text: utf16(bytes.subarray(2), 'le', file), encoding: 'utf-16le' };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return { text: utf16(bytes.subarray(2), 'be', file), encoding: 'utf-16be' };
  const sniff = bytes.subarray(0, 512);
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < sniff.length; i++) {
    if (sniff[i] !== 0) continue;
    if (i % 2 === 0) evenNul++;
    else oddNul++;
  }
  const half = sniff.length / 2;
  if (half >= 2 && oddNul > half * 0.6 && evenNul === 0) return { text: utf16(bytes, 'le', file), encoding: 'utf-16le' };
  if (half >= 2 && evenNul > half * 0.6 && oddNul === 0) return { text: utf16(bytes, 'be', file), encoding: 'utf-16be' };
  return { text: strictUtf8(bytes, file, 0), encoding: 'utf-8' };
}

function strictUtf8(bytes: Buffer, file: string, offset: number): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstBadUtf8(bytes);
    const where = positionOf(bytes.subarray(0, at).toString('utf8'));
    throw new InputError(
      `not UTF-8 or UTF-16: byte 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')} at offset ${at + offset} is not valid UTF-8`,
      { file, ...where },
      'export the report again from the admin center (UTF-8), or save it as "CSV UTF-8" / "Unicode text"',
    );
  }
}

function utf16(bytes: Buffer, order: 'le' | 'be', file: string): string {
  if (bytes.length % 2 !== 0) {
    throw new InputError('a UTF-16 file with an odd number of bytes: the file is cut short', { file, ...positionOf(decode16(bytes.subarray(0, bytes.length - 1), order)) }, 'download the report again');
  }
  const text = decode16(bytes, order);
  // A lone surrogate is a broken file, not a character.
  const bad = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  if (bad) throw new InputError(`broken UTF-16: a lone surrogate (U+${bad[0].charCodeAt(0).toString(16).toUpperCase()})`, { file, ...positionOf(text.slice(0, bad.index)) }, 'download the report again');
  return text;
}

function decode16(bytes: Buffer, order: 'le' | 'be'): string {
  if (order === 'le') return bytes.toString('utf16le');
  const swapped = Buffer.from(bytes);
  swapped.swap16();
  return swapped.toString('utf16le');
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstBadUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (i + k >= bytes.length || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return Math.max(0, bytes.length - 1);
}

/** 1-based line and column of the character after `prefix`. */
export function positionOf(prefix: string): { line: number; col: number } {
  const lines = prefix.split('\n');
  return { line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1 };
}
