/**
 * A YAML value that remembers where each part came from. After ${...} resolution a part may point
 * into another file (an allowlist line), which is how errors about an address name the line it is on.
 */
import type { SourceLocation } from '../errors.js';

export type ScalarValue = string | number | boolean | null;

export interface LocatedScalar {
  kind: 'scalar';
  loc: SourceLocation;
  value: ScalarValue;
  /** The source text is exactly the value (plain style), so a column inside it is exact. */
  verbatim: boolean;
}
export interface LocatedSequence {
  kind: 'seq';
  loc: SourceLocation;
  items: Located[];
}
export interface LocatedEntry {
  keyLoc: SourceLocation;
  value: Located;
}
export interface LocatedMapping {
  kind: 'map';
  loc: SourceLocation;
  entries: Map<string, LocatedEntry>;
}
export type Located = LocatedScalar | LocatedSequence | LocatedMapping;

export type PathSegment = string | number;

export function toPlain(node: Located): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.value;
    case 'seq':
      return node.items.map(toPlain);
    case 'map':
      // Object.fromEntries defines own properties, so a `__proto__` key cannot reach the prototype.
      return Object.fromEntries([...node.entries].map(([key, entry]) => [key, toPlain(entry.value)]));
  }
}

export function child(node: Located | undefined, segment: PathSegment): Located | undefined {
  if (!node) return undefined;
  if (node.kind === 'map' && typeof segment === 'string') return node.entries.get(segment)?.value;
  if (node.kind === 'seq' && typeof segment === 'number') return node.items[segment];
  return undefined;
}

/** The location of the value at `path`, or of its nearest ancestor that exists. */
export function locateIn(root: Located, path: readonly PathSegment[]): SourceLocation {
  let node: Located = root;
  for (const segment of path) {
    const next = child(node, typeof segment === 'string' && node.kind === 'seq' ? Number(segment) : segment);
    if (!next) break;
    node = next;
  }
  return node.loc;
}

/** The location of the key `path`'s last segment names, when it is a mapping key. */
export function locateKey(root: Located, path: readonly PathSegment[]): SourceLocation | undefined {
  const parent = path.slice(0, -1).reduce<Located | undefined>((node, segment) => child(node, segment), root);
  const last = path[path.length - 1];
  if (parent?.kind === 'map' && typeof last === 'string') return parent.entries.get(last)?.keyLoc;
  return undefined;
}

export function stringAt(node: Located | undefined): string | undefined {
  return node?.kind === 'scalar' && typeof node.value === 'string' ? node.value : undefined;
}
