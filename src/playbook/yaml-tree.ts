/**
 * YAML text → a Located tree, using js-yaml's event parser (events carry source offsets, so every
 * key and value gets a real line:col, flow mappings included). Refused here, each with a location:
 * syntax errors (tabs in indentation included), several documents, duplicate keys, anchors and
 * aliases (no alias bomb can expand), and tags other than !!str.
 */
import { CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, YAMLException, getScalarValue, parseEvents, type Event } from 'js-yaml';
import type { SourceLocation } from '../errors.js';
import type { Located, LocatedMapping, PathSegment } from './located.js';
import { LineIndex } from './source.js';
import { pathToString, type Problem } from './problems.js';
import { LONE_SURROGATE } from './addresses.js';

const STRING_TAGS = new Set(['!!str', '!<tag:yaml.org,2002:str>']);

export interface YamlTree {
  root?: Located;
  problems: Problem[];
}

export function parseYamlTree(text: string, file: string): YamlTree {
  const lines = new LineIndex(file, text);
  const problems: Problem[] = [];
  let events: Event[];
  try {
    events = parseEvents(text, { filename: file, maxDepth: 64 });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const line = (error.mark?.line ?? 0) + 1;
    const col = (error.mark?.column ?? 0) + 1;
    const hint = /tab/i.test(error.reason) ? 'indent with spaces; YAML does not allow tabs there' : undefined;
    problems.push({ location: { file, line, col }, message: `YAML syntax error: ${error.reason}`, path: '', ...(hint ? { hint } : {}) });
    return { problems };
  }
  if (!events.some((e) => e.type !== EVENT_ID.DOCUMENT && e.type !== EVENT_ID.POP)) {
    problems.push({ location: { file, line: 1, col: 1 }, message: 'the playbook is empty', path: '', hint: 'start from playbooks/smtp-auth-disable.yaml' });
    return { problems };
  }

  let cursor = 0;
  let lastOffset = 0;
  const where = (offset: number) => lines.at(offset >= 0 ? offset : lastOffset);

  // One report per file is enough: an alias bomb would otherwise bury the other problems.
  let anchorReported = false;
  const refuseAnchorAt = (location: SourceLocation, path: PathSegment[]) => {
    if (anchorReported) return;
    anchorReported = true;
    problems.push({
      location,
      message: 'YAML anchors and aliases are not supported',
      path: pathToString(path),
      hint: 'write the value out, or share it with vars: and ${vars.name}',
    });
  };
  const refuseAnchor = (anchorStart: number, path: PathSegment[]) => {
    if (anchorStart >= 0) refuseAnchorAt(where(anchorStart - 1), path);
  };

  const node = (path: PathSegment[]): Located => {
    const event = events[cursor++]!;
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        refuseAnchor(event.anchorStart, path);
        const start = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED ? event.valueStart - 1 : event.valueStart;
        const loc = where(start);
        if (event.valueEnd >= 0) lastOffset = event.valueEnd;
        const source = getScalarValue(text, event);
        if (event.tagStart >= 0) {
          const tag = text.slice(event.tagStart, event.tagEnd);
          if (!STRING_TAGS.has(tag)) {
            problems.push({ location: where(event.tagStart), message: `YAML tag ${tag} is not supported`, path: pathToString(path), hint: 'remove the tag; quote the value if it must be a string' });
          }
          return { kind: 'scalar', loc, value: source, verbatim: false };
        }
        if (event.style === SCALAR_STYLE.PLAIN) {
          const value = CORE_SCHEMA.resolveImplicitScalarTag(source).value as string | number | boolean | null;
          if (typeof value === 'number') {
            const inexact = inexactNumber(source, value);
            if (inexact) problems.push({ location: loc, message: `the number ${source} ${inexact}`, path: pathToString(path), hint: 'write a smaller number, or quote it if it is text' });
          }
          return { kind: 'scalar', loc, value, verbatim: true };
        }
        if (LONE_SURROGATE.test(source)) {
          problems.push({ location: loc, message: 'the value contains a lone UTF-16 surrogate (a broken \\u escape), which is not a character', path: pathToString(path), hint: 'write the character itself, or a complete \\u pair' });
        }
        return { kind: 'scalar', loc, value: source, verbatim: false };
      }
      case EVENT_ID.ALIAS: {
        const loc = where(event.anchorStart - 1);
        refuseAnchorAt(loc, path);
        return { kind: 'scalar', loc, value: null, verbatim: false };
      }
      case EVENT_ID.SEQUENCE: {
        refuseAnchor(event.anchorStart, path);
        const loc = where(event.start);
        lastOffset = event.start;
        refuseTag(event.tagStart, event.tagEnd, path);
        const items: Located[] = [];
        while (events[cursor]!.type !== EVENT_ID.POP) items.push(node([...path, items.length]));
        cursor++;
        return { kind: 'seq', loc, items };
      }
      case EVENT_ID.MAPPING: {
        refuseAnchor(event.anchorStart, path);
        const loc = where(event.start);
        lastOffset = event.start;
        refuseTag(event.tagStart, event.tagEnd, path);
        const mapping: LocatedMapping = { kind: 'map', loc, entries: new Map() };
        while (events[cursor]!.type !== EVENT_ID.POP) {
          const key = node(path);
          const name = key.kind === 'scalar' ? String(key.value ?? '') : undefined;
          if (name === undefined) {
            problems.push({ location: key.loc, message: 'a mapping key must be a plain word', path: pathToString(path) });
            node(path);
            continue;
          }
          const value = node([...path, name]);
          const first = mapping.entries.get(name);
          if (first) {
            problems.push({
              location: key.loc,
              message: `duplicate key \`${name}\` (first at line ${first.keyLoc.line}:${first.keyLoc.col})`,
              path: pathToString([...path, name]),
              hint: 'keep one of them',
            });
            continue;
          }
          mapping.entries.set(name, { keyLoc: key.loc, value });
        }
        cursor++;
        return mapping;
      }
      default:
        throw new Error(`unexpected YAML event ${event.type} at ${cursor - 1}`);
    }
  };

  function refuseTag(tagStart: number, tagEnd: number, path: PathSegment[]) {
    if (tagStart < 0) return;
    problems.push({ location: where(tagStart), message: `YAML tag ${text.slice(tagStart, tagEnd)} is not supported`, path: pathToString(path), hint: 'remove the tag' });
  }

  let root: Located | undefined;
  let documents = 0;
  while (cursor < events.length) {
    const event = events[cursor++]!;
    if (event.type !== EVENT_ID.DOCUMENT) continue;
    documents++;
    if (events[cursor]?.type === EVENT_ID.POP) {
      cursor++;
      continue;
    }
    const content = node([]);
    cursor++; // the document's POP
    if (documents === 1 || !root) root = content;
    else problems.push({ location: content.loc, message: 'a playbook file holds one YAML document', path: '', hint: 'remove the `---` and what follows, or split it into another file' });
  }
  return { ...(root ? { root } : {}), problems };
}

/**
 * Why a YAML number cannot be used as written, or undefined: integers beyond 2^53 and decimals with
 * more digits than a double holds would be silently rounded (99999999999999999999 becomes
 * 100000000000000000000), so they are refused instead.
 */
function inexactNumber(source: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return /nan/i.test(source) ? undefined : 'is too large';
  const digits = source.replace(/^[-+]/, '').replace(/_/g, '');
  if (/^(0x|0o)/i.test(digits) || /^[0-9]+$/.test(digits)) {
    return Number.isSafeInteger(value) ? undefined : `is beyond ${Number.MAX_SAFE_INTEGER} and would be rounded`;
  }
  const significant = digits.replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return significant.length > 15 ? 'has more digits than can be kept exactly and would be rounded' : undefined;
}
