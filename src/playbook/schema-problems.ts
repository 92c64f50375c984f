/**
 * zod issues → located problems in the user's words: "unknown key `mailbox`; did you mean
 * `mailboxes`?", "missing required key", "unknown action".
 */
import type { z } from 'zod';
import { playbookSchema } from './schema.js';
import { child, locateIn, locateKey, toPlain, type Located, type PathSegment } from './located.js';
import { pathToString, type Problem } from './problems.js';
import { didYouMean } from './suggest.js';

type ZodIssue = z.core.$ZodIssue;

/** `schema`: the one the issues came from (the playbook's, or another file's such as the fleet inventory). */
export function schemaProblems(root: Located, issues: readonly ZodIssue[], schema: z.ZodType = playbookSchema): Problem[] {
  return issues.flatMap((issue) => describeIssue(root, issue, schema));
}

function describeIssue(root: Located, issue: ZodIssue, schema: z.ZodType): Problem[] {
  const at = issue.path as PathSegment[];
  const path = pathToString(at);
  const value = at.reduce<Located | undefined>((node, segment) => child(node, segment), root);

  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(root, at, schema);
    return issue.keys.map((key) => ({
      location: locateKey(root, [...at, key]) ?? locateIn(root, at),
      message: `unknown key \`${key}\`${didYouMean(key, known)}`,
      path: pathToString([...at, key]),
      ...(known.length ? { hint: `allowed here: ${known.join(', ')}` } : {}),
    }));
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && Array.isArray((issue as { options?: unknown }).options)) {
    const options = ((issue as { options: unknown[] }).options ?? []).map(String);
    const key = String(issue.discriminator);
    if (!value) {
      return [{ location: locateIn(root, at), message: `missing required key \`${key}\``, path, hint: `one of: ${options.join(', ')}` }];
    }
    const given = String(toPlain(value));
    const noun = key === 'uses' ? 'action' : `${key}`;
    return [{ location: value.loc, message: `unknown ${noun} \`${given}\`${didYouMean(given, options)}`, path, hint: `one of: ${options.join(', ')}` }];
  }
  if (!value && at.length > 0 && issue.code === 'invalid_type') {
    const parentLoc = locateIn(root, at.slice(0, -1));
    return [{ location: parentLoc, message: `missing required key \`${String(at[at.length - 1])}\` (${issue.expected})`, path }];
  }
  return [{ location: value?.loc ?? locateIn(root, at), message: issue.message.replace(/^Invalid input: /, ''), path }];
}

/** The keys the schema allows for the object at `path` (following discriminators through the data). */
function knownKeysAt(root: Located, path: readonly PathSegment[], rootSchema: z.ZodType): string[] {
  let schema: unknown = rootSchema;
  let node: Located | undefined = root;
  const objectAt = (s: unknown, data: Located | undefined): unknown => {
    for (let guard = 0; guard < 20; guard++) {
      const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
      switch (def.type) {
        case 'default':
        case 'optional':
        case 'nullable':
        case 'prefault':
          s = def.innerType;
          continue;
        case 'lazy':
          s = (def.getter as () => unknown)();
          continue;
        case 'pipe':
          s = def.in;
          continue;
        case 'union': {
          const discriminator = def.discriminator as string | undefined;
          const options = def.options as unknown[];
          const wanted = discriminator ? toPlain(child(data, discriminator) ?? { kind: 'scalar', loc: root.loc, value: null, verbatim: false }) : undefined;
          const match = options.find((option) => {
            const shape = (option as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def.shape;
            const literal = shape?.[discriminator ?? '']  as { _zod: { def: { values?: unknown[] } } } | undefined;
            return literal?._zod.def.values?.includes(wanted);
          });
          if (!match) return undefined;
          s = match;
          continue;
        }
        default:
          return s;
      }
    }
    return undefined;
  };
  for (const segment of [...path, undefined]) {
    const resolved = objectAt(schema, node);
    if (!resolved) return [];
    const def = (resolved as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (segment === undefined) return def.type === 'object' ? Object.keys(def.shape as object) : [];
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def.type === 'array') schema = def.element;
    else if (def.type === 'record') schema = def.valueType;
    else return [];
    if (!schema) return [];
    node = child(node, segment);
  }
  return [];
}
