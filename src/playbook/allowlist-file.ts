/**
 * The allowlist file format: one address a line; blank lines, whole-line `# comments` and trailing
 * ` # comments` are allowed. Each entry keeps its own line:col so errors point into this file.
 */
import type { LocatedScalar } from './located.js';

export function parseAllowlist(text: string, displayFile: string): LocatedScalar[] {
  const entries: LocatedScalar[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // A `#` starts a comment at the start of the line or after whitespace; inside a word it stays,
    // and the address check then refuses it, rather than silently cutting the address short.
    const comment = line.search(/(^|\s)#/);
    const content = comment >= 0 ? line.slice(0, comment) : line;
    const start = content.search(/\S/);
    if (start < 0) return;
    entries.push({
      kind: 'scalar',
      loc: { file: displayFile, line: index + 1, col: start + 1 },
      value: content.trim(),
      verbatim: true,
    });
  });
  return entries;
}
