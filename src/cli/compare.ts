/**
 * `--compare <result.json>` (plan, verify, apply with --format html): an earlier run's `--format json`
 * result, read and checked before the run starts, so a wrong file fails at once (exit 1), not after
 * the tenant was read. A regular file of at most MAX_BYTES; anything else is a located error.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../errors.js';
import { snapshotOfDocument, type RunSnapshot } from '../report/html-since.js';
import type { HtmlOptions } from '../report/html.js';

const MAX_BYTES = 64 * 1024 * 1024;
const HINT = 'point --compare at the --format json output of an earlier plan, verify or apply (e.g. verify … --format json > last.json)';

function readBounded(file: string, shown: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new InputError(`--compare ${shown}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, undefined, HINT);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new InputError(`--compare ${shown}: not a regular file`, undefined, HINT);
    if (stat.size > MAX_BYTES) throw new InputError(`--compare ${shown}: ${stat.size} bytes, more than the ${MAX_BYTES / 1024 / 1024} MiB a result file may have`, undefined, HINT);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < stat.size) {
      const n = readSync(fd, buffer, read, stat.size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8').replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}

/** The earlier run as html options; {} without --compare. */
export function loadCompare(cwd: string, compare: string | undefined, format: string): HtmlOptions {
  if (compare === undefined) return {};
  // Only the html page shows it: taking the option silently elsewhere would promise a comparison nobody sees.
  if (format !== 'html') throw new InputError(`--compare is for --format html (this run writes ${format})`, undefined, 'add --format html, or drop --compare');
  const text = readBounded(resolve(cwd, compare), compare);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new InputError(`--compare ${compare} is not JSON: ${(error as Error).message}`, { file: compare, line: 1, col: 1 }, HINT);
  }
  let previous: RunSnapshot;
  try {
    previous = snapshotOfDocument(doc);
  } catch (error) {
    throw new InputError(`--compare ${compare}: ${(error as Error).message}`, { file: compare, line: 1, col: 1 }, HINT);
  }
  return { previous };
}
