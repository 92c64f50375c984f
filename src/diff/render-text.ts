/**
 * The terminal form of a diff: one line per change, marked + (added), - (removed), ~ (changed),
 * > (moved), and ! in front of anything sensitive.
 */
import type { DiffReport, PlaybookChange, PlaybookDiff } from './types.js';

const MARK: Record<PlaybookChange['kind'], string> = {
  'playbook-added': '+',
  'playbook-removed': '-',
  'step-added': '+',
  'step-removed': '-',
  'step-moved': '>',
  'setting-changed': '~',
  'allowlist-added': '+',
  'allowlist-removed': '-',
  'breakage-accepted': '+',
  'breakage-unaccepted': '-',
  'oauth-grant-added': '+',
  'oauth-grant-removed': '-',
};

function side(v: PlaybookDiff['old']): string {
  return v ? v.label : '(absent)';
}

export function renderDiffText(report: DiffReport): string {
  const lines: string[] = [];
  for (const diff of report.diffs) {
    if (diff.changes.length === 0) continue;
    const file = diff.new?.file ?? diff.old?.file ?? '';
    // File form: the labels are the paths themselves; git form: one path, two revisions.
    const fileForm = diff.old?.label === diff.old?.file && diff.new?.label === diff.new?.file;
    lines.push(fileForm ? `${diff.old?.file} → ${diff.new?.file}` : `${file} (${side(diff.old)} → ${side(diff.new)})`);
    const change = diff.new?.change ?? diff.old?.change;
    if (change) lines.push(`  change: ${change}`);
    for (const c of diff.changes) lines.push(`  ${c.sensitive ? '! ' : '  '}${MARK[c.kind]} ${c.message}`);
  }
  const total = report.diffs.reduce((n, d) => n + d.changes.length, 0);
  const sensitive = report.diffs.reduce((n, d) => n + d.changes.filter((c) => c.sensitive).length, 0);
  if (total === 0) lines.push(`No meaningful changes (${report.diffs.length} playbook${report.diffs.length === 1 ? '' : 's'} compared).`);
  else lines.push(`${total} change${total === 1 ? '' : 's'}${sensitive ? ` (${sensitive} sensitive: tenant, sign-in or acceptBreakage)` : ''}.`);
  return lines.join('\n') + '\n';
}
