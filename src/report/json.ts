/**
 * JSON output: the documents themselves (src/engine/types.ts), so scripts read the same shape that
 * plan.json is saved in. Nothing else goes to stdout with --format json.
 */
export function renderJson(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
