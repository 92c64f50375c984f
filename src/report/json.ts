/**
 * JSON output: the documents themselves (src/engine/types.ts), so scripts read the same shape that
 * plan.json is saved in. Nothing else goes to stdout with --format json. Every document carries
 * `formatVersion` and `kind`; schemas/<kind>.schema.json (shipped with the package) describes each.
 * A field may be added within a format version; removing or changing one raises it.
 */
import type { DiffReport } from '../diff/types.js';
import type { ApplyReport, VerifyReport } from '../engine/types.js';

export const FORMAT_VERSION = 1 as const;

export function renderJson(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function renderVerifyJson(report: VerifyReport): string {
  return renderJson({ formatVersion: FORMAT_VERSION, kind: 'verify', ...report });
}

/** apply and rollback results: `plan.kind` says which. */
export function renderApplyJson(report: ApplyReport): string {
  return renderJson({ formatVersion: FORMAT_VERSION, kind: 'apply', ...report });
}

export function renderDiffJson(report: DiffReport): string {
  return renderJson({ ...report, formatVersion: FORMAT_VERSION, kind: 'diff' });
}
