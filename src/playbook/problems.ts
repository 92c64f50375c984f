/**
 * Everything wrong with one playbook, reported at once: each problem names the file, line and
 * column (which may be inside an allowlist file the playbook references), the dotted path, and
 * where there is one, the fix.
 */
import { InputError, type SourceLocation } from '../errors.js';

export interface Problem {
  location: SourceLocation;
  message: string;
  /** Dotted path into the playbook, e.g. `steps.2.with.mailboxes.3`; '' for the whole file. */
  path: string;
  hint?: string;
}

export function formatProblem(problem: Problem): string {
  const { file, line, col } = problem.location;
  const where = problem.path ? ` (${problem.path})` : '';
  const hint = problem.hint ? `\n  hint: ${problem.hint}` : '';
  return `${file}:${line}:${col}: ${problem.message}${where}${hint}`;
}

export class PlaybookInvalid extends InputError {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function pathToString(path: readonly (string | number)[]): string {
  return path.map(String).join('.');
}

/** Sorted by file, line, column; the same message at the same place is reported once. */
export function orderProblems(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.location.file}\0${p.location.line}\0${p.location.col}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort(
    (a, b) =>
      a.location.file.localeCompare(b.location.file) || a.location.line - b.location.line || a.location.col - b.location.col,
  );
}
