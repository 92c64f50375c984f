/**
 * The semantic comparison itself: pure, over two resolved playbooks. Both sides went through the
 * loader (zod defaults applied, ${file:} allowlists expanded), so comments, key order, quoting and
 * spelling out a default are invisible here by construction.
 */
import type { Playbook, Step } from '../playbook/schema.js';
import type { PlaybookChange, PlaybookDiff, PlaybookVersion } from './types.js';
import { oauthGrantChanges } from './oauth-grants.js';

export interface DiffSide {
  version: PlaybookVersion;
  playbook: Playbook;
  /** Lower-cased address → the file it came from (relative to the playbook), or undefined when inline. */
  addressSource: (address: string) => string | undefined;
  /** Turns placeholder values (for env references not available to diff) back into `${env:NAME}` for display. */
  display?: (value: unknown) => unknown;
}

/** Paths whose change a reviewer must look at twice. */
function isSensitivePath(path: string): boolean {
  return path === 'tenant' || path.startsWith('tenant.') || path.startsWith('acceptBreakage') || path.startsWith('acceptNoUsageEvidence') || /\.with\.allowWrite$/.test(path);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf values by dotted path. Arrays are leaves (order matters for cmdlet parameters) unless listed as sets. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort();
    if (keys.length === 0) out.set(prefix, {});
    for (const key of keys) flatten(value[key], prefix ? `${prefix}.${key}` : key, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

function fmt(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (v === null) return 'null';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function settingChanges(oldValue: unknown, newValue: unknown, prefix: string, sideA: DiffSide, sideB: DiffSide, stepId?: string): PlaybookChange[] {
  const showA = sideA.display ?? ((v) => v);
  const showB = sideB.display ?? ((v) => v);
  const a = flatten(showA(oldValue), prefix, new Map());
  const b = flatten(showB(newValue), prefix, new Map());
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: PlaybookChange[] = [];
  for (const path of paths) {
    const before = a.get(path);
    const after = b.get(path);
    if (same(before, after)) continue;
    changes.push({
      kind: 'setting-changed',
      path,
      ...(stepId ? { stepId } : {}),
      before,
      after,
      sensitive: isSensitivePath(path),
      message: `${path}: ${fmt(before)} → ${fmt(after)}`,
    });
  }
  return changes;
}

/** Case-insensitive set difference, keeping the spelling of the side the address is on. */
function addressDelta(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const lower = (list: readonly string[]) => new Map(list.map((a) => [a.toLowerCase(), a]));
  const a = lower(before);
  const b = lower(after);
  const added = [...b].filter(([k]) => !a.has(k)).map(([, v]) => v).sort();
  const removed = [...a].filter(([k]) => !b.has(k)).map(([, v]) => v).sort();
  return { added, removed };
}

function groupBySource(addresses: string[], side: DiffSide): Map<string | undefined, string[]> {
  const groups = new Map<string | undefined, string[]>();
  for (const address of addresses) {
    const source = side.addressSource(address.toLowerCase());
    groups.set(source, [...(groups.get(source) ?? []), address]);
  }
  return groups;
}

function addressChanges(
  kind: { added: PlaybookChange['kind']; removed: PlaybookChange['kind'] },
  path: string,
  before: readonly string[],
  after: readonly string[],
  sideA: DiffSide,
  sideB: DiffSide,
  stepId?: string,
): PlaybookChange[] {
  const { added, removed } = addressDelta(before, after);
  const sensitive = isSensitivePath(path);
  const changes: PlaybookChange[] = [];
  const emit = (which: 'added' | 'removed', list: string[], side: DiffSide) => {
    for (const [source, addresses] of groupBySource(list, side)) {
      const where = source ? ` (${source})` : '';
      changes.push({
        kind: kind[which],
        path,
        ...(stepId ? { stepId } : {}),
        addresses,
        ...(source ? { source } : {}),
        sensitive,
        message: `${path}${where}: ${which} ${addresses.join(', ')}`,
      });
    }
  };
  emit('added', added, sideB);
  emit('removed', removed, sideA);
  return changes;
}

/** `with` keys that are address sets: order and case do not matter, and each entry is reported. */
const ADDRESS_SET_KEYS: Record<string, readonly string[]> = {
  'smtp-auth/allowlist': ['mailboxes'],
  'smtp-auth/verify': ['mailboxes'],
};

function stepChanges(a: Step, b: Step, sideA: DiffSide, sideB: DiffSide): PlaybookChange[] {
  const prefix = `steps.${a.id}`;
  if (a.uses !== b.uses) {
    // A different action: its settings are not comparable key by key.
    return [
      { kind: 'setting-changed', path: `${prefix}.uses`, stepId: a.id, before: a.uses, after: b.uses, sensitive: false, message: `${prefix}.uses: ${a.uses} → ${b.uses}` },
      ...settingChanges(a.with, b.with, `${prefix}.with`, sideA, sideB, a.id),
    ];
  }
  const { with: withA, id: _ia, uses: _ua, ...restA } = a;
  const { with: withB, id: _ib, uses: _ub, ...restB } = b;
  const changes = settingChanges(restA, restB, prefix, sideA, sideB, a.id);
  const setKeys = ADDRESS_SET_KEYS[a.uses] ?? [];
  const wa = { ...(withA as Record<string, unknown>) };
  const wb = { ...(withB as Record<string, unknown>) };
  if (a.uses === 'smtp-auth/oauth-senders') {
    changes.push(...oauthGrantChanges(prefix, a.id, withA, withB));
    delete wa.applications;
    delete wb.applications;
    delete wa.exclusive;
    delete wb.exclusive;
  }
  for (const key of setKeys) {
    const la = wa[key];
    const lb = wb[key];
    delete wa[key];
    delete wb[key];
    if (Array.isArray(la) && Array.isArray(lb)) {
      changes.push(...addressChanges({ added: 'allowlist-added', removed: 'allowlist-removed' }, `${prefix}.with.${key}`, la as string[], lb as string[], sideA, sideB, a.id));
    } else if (!same(la, lb)) {
      changes.push(...settingChanges(la, lb, `${prefix}.with.${key}`, sideA, sideB, a.id));
    }
  }
  changes.push(...settingChanges(wa, wb, `${prefix}.with`, sideA, sideB, a.id));
  return changes;
}

/** Ids of common steps that moved: those outside a longest common subsequence of the two orders. */
function movedSteps(before: string[], after: string[]): Set<string> {
  const common = new Set(before.filter((id) => after.includes(id)));
  const x = before.filter((id) => common.has(id));
  const y = after.filter((id) => common.has(id));
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const stay = new Set<string>();
  for (let i = 0, j = 0; i < x.length && j < y.length; ) {
    if (x[i] === y[j]) {
      stay.add(x[i]!);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return new Set(x.filter((id) => !stay.has(id)));
}

export function comparePlaybooks(sideA: DiffSide | null, sideB: DiffSide | null): PlaybookDiff {
  if (!sideA || !sideB) {
    const present = (sideA ?? sideB)!;
    const kind = sideA ? 'playbook-removed' : 'playbook-added';
    return {
      old: sideA?.version ?? null,
      new: sideB?.version ?? null,
      changes: [{ kind, path: '', sensitive: true, message: `playbook ${present.playbook.name} ${sideA ? 'removed' : 'added'} (tenant ${present.playbook.tenant.organization})` }],
    };
  }
  const a = sideA.playbook;
  const b = sideB.playbook;
  const changes: PlaybookChange[] = [];
  changes.push(...settingChanges({ apiVersion: a.apiVersion, name: a.name, description: a.description, change: a.change }, { apiVersion: b.apiVersion, name: b.name, description: b.description, change: b.change }, '', sideA, sideB));
  changes.push(...settingChanges(a.tenant, b.tenant, 'tenant', sideA, sideB));
  changes.push(...addressChanges({ added: 'breakage-accepted', removed: 'breakage-unaccepted' }, 'acceptBreakage', a.acceptBreakage, b.acceptBreakage, sideA, sideB));
  // Taking SMTP AUTH away without usage evidence is a decision a reviewer must see (sensitive).
  changes.push(...settingChanges({ acceptNoUsageEvidence: a.acceptNoUsageEvidence ?? null }, { acceptNoUsageEvidence: b.acceptNoUsageEvidence ?? null }, '', sideA, sideB));

  const idsA = a.steps.map((s) => s.id);
  const idsB = b.steps.map((s) => s.id);
  for (const step of a.steps) {
    if (!idsB.includes(step.id)) changes.push({ kind: 'step-removed', path: `steps.${step.id}`, stepId: step.id, before: step.uses, sensitive: false, message: `step ${step.id} (${step.uses}) removed` });
  }
  for (const [index, step] of b.steps.entries()) {
    if (!idsA.includes(step.id)) {
      const sensitive = step.uses === 'powershell' && (step.with as { allowWrite?: boolean }).allowWrite === true;
      changes.push({ kind: 'step-added', path: `steps.${step.id}`, stepId: step.id, after: step.uses, sensitive, message: `step ${step.id} (${step.uses}) added at position ${index + 1}` });
    }
  }
  for (const id of movedSteps(idsA, idsB)) {
    const from = idsA.indexOf(id) + 1;
    const to = idsB.indexOf(id) + 1;
    changes.push({ kind: 'step-moved', path: `steps.${id}`, stepId: id, before: from, after: to, sensitive: false, message: `step ${id} moved from position ${from} to ${to}` });
  }
  for (const stepA of a.steps) {
    const stepB = b.steps.find((s) => s.id === stepA.id);
    if (stepB) changes.push(...stepChanges(stepA, stepB, sideA, sideB));
  }
  return { old: sideA.version, new: sideB.version, changes };
}
