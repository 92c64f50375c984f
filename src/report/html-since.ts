/**
 * "Since the last run" for the HTML report: what changed against a previous run's result (`--compare
 * <file>`, the `--format json` output of an earlier plan, verify or apply), and the senders the usage
 * step's `history:` found new. Senders are compared by address (new, gone, changed: protocols, SMTP
 * AUTH, allowlisted); findings by check and subject (new, resolved, changed status); a previous plan's
 * risks count as findings (blocking = fail, others = warn).
 */
import type { Finding, Risk } from '../actions/types.js';
import type { SenderDossier } from '../actions/smtp-auth/usage/dossier.js';
import type { PlanDocument, VerifyReport } from '../engine/types.js';

export interface SenderSnapshot {
  sender: string;
  protocols: string;
  smtpAuth: string;
  allowlisted: boolean;
  messages: number | null;
}

export interface ItemSnapshot {
  /** check (finding) or risk kind */
  check: string;
  subject: string;
  status: 'pass' | 'fail' | 'warn';
}

/** What a run left to compare with: its time, senders (null: it had no usage data) and findings. */
export interface RunSnapshot {
  at: string;
  kind: string;
  senders: SenderSnapshot[] | null;
  items: ItemSnapshot[];
}

export interface SinceLastRun {
  previousAt: string;
  previousKind: string;
  newSenders: SenderSnapshot[];
  goneSenders: SenderSnapshot[];
  changedSenders: { sender: string; before: string; after: string }[];
  newItems: ItemSnapshot[];
  resolvedItems: ItemSnapshot[];
  changedItems: { check: string; subject: string; before: string; after: string }[];
  /** True when one side had no usage data, so senders were not compared. */
  sendersUnknown: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function senderOf(d: SenderDossier): SenderSnapshot {
  return { sender: d.sender, protocols: [...d.protocols].sort().join('+') || 'Unknown', smtpAuth: d.smtpAuthAfter ?? d.smtpAuthNow, allowlisted: d.allowlisted, messages: d.messages };
}

function isDossier(v: unknown): v is SenderDossier {
  return isRecord(v) && typeof v.sender === 'string' && Array.isArray(v.protocols) && (v.smtpAuthNow === 'on' || v.smtpAuthNow === 'off') && typeof v.allowlisted === 'boolean';
}

/** Dossiers carried by a verify's findings (data.dossier), first per sender. */
export function dossiersOfFindings(findings: readonly Finding[]): SenderDossier[] {
  const bySender = new Map<string, SenderDossier>();
  for (const f of findings) {
    const dossier = (f.data as { dossier?: unknown } | undefined)?.dossier;
    if (isDossier(dossier) && !bySender.has(dossier.sender)) bySender.set(dossier.sender, dossier);
  }
  return [...bySender.values()];
}

/** Dossiers a plan's usage steps keep in step.data.dossier. */
export function dossiersOfPlan(plan: Pick<PlanDocument, 'steps'>): SenderDossier[] {
  const bySender = new Map<string, SenderDossier>();
  for (const step of plan.steps) {
    const list = (step.data as { dossier?: unknown } | undefined)?.dossier;
    if (!Array.isArray(list)) continue;
    for (const d of list) if (isDossier(d) && !bySender.has(d.sender)) bySender.set(d.sender, d);
  }
  return [...bySender.values()];
}

function riskItems(risks: readonly Risk[]): ItemSnapshot[] {
  return risks.map((r) => ({ check: r.kind, subject: r.subject, status: r.blocking && !r.accepted ? 'fail' : 'warn' }));
}

function findingItems(findings: readonly Finding[]): ItemSnapshot[] {
  return findings.map((f) => ({ check: f.check, subject: f.subject, status: f.status }));
}

export function snapshotOfVerify(report: VerifyReport): RunSnapshot {
  const dossiers = dossiersOfFindings(report.findings);
  return { at: report.checkedAt, kind: 'verify', senders: dossiers.length ? dossiers.map(senderOf) : null, items: findingItems(report.findings) };
}

export function snapshotOfPlan(plan: PlanDocument): RunSnapshot {
  const dossiers = dossiersOfPlan(plan);
  const risks = [...plan.risks, ...plan.steps.flatMap((s) => s.risks)];
  return { at: plan.createdAt, kind: plan.kind, senders: dossiers.length ? dossiers.map(senderOf) : null, items: riskItems(risks) };
}

/**
 * A previous run's `--format json` document (plan, rollback plan, verify, apply) as a snapshot; throws
 * an Error saying what is wrong when it is none of them.
 */
export function snapshotOfDocument(doc: unknown): RunSnapshot {
  if (!isRecord(doc) || doc.formatVersion !== 1) throw new Error('not an exo-playbook --format json result (no formatVersion 1)');
  const findingsOk = (v: unknown) => Array.isArray(v) && v.every((f) => isRecord(f) && typeof f.check === 'string' && typeof f.subject === 'string' && (f.status === 'pass' || f.status === 'fail' || f.status === 'warn'));
  const planOk = (v: unknown): v is PlanDocument => isRecord(v) && typeof v.createdAt === 'string' && Array.isArray(v.steps) && v.steps.every((s) => isRecord(s) && Array.isArray(s.risks)) && Array.isArray(v.risks);
  if (doc.kind === 'verify' && typeof doc.checkedAt === 'string' && findingsOk(doc.findings)) return snapshotOfVerify(doc as unknown as VerifyReport);
  if ((doc.kind === 'plan' || doc.kind === 'rollback') && planOk(doc)) return snapshotOfPlan(doc);
  if (doc.kind === 'apply' && planOk(doc.plan)) {
    const verify = doc.verify;
    if (isRecord(verify) && typeof verify.checkedAt === 'string' && findingsOk(verify.findings)) return snapshotOfVerify(verify as unknown as VerifyReport);
    return snapshotOfPlan(doc.plan);
  }
  throw new Error(`a ${typeof doc.kind === 'string' ? doc.kind : 'document'} of an unexpected shape (expected the --format json of plan, verify or apply)`);
}

const describe = (s: SenderSnapshot) => `${s.protocols}, SMTP AUTH ${s.smtpAuth}${s.allowlisted ? ', allowlisted' : ''}`;
const itemKey = (i: Pick<ItemSnapshot, 'check' | 'subject'>) => `${i.check}\u0000${i.subject.toLowerCase()}`;

export function compareRuns(previous: RunSnapshot, current: RunSnapshot): SinceLastRun {
  const result: SinceLastRun = {
    previousAt: previous.at,
    previousKind: previous.kind,
    newSenders: [],
    goneSenders: [],
    changedSenders: [],
    newItems: [],
    resolvedItems: [],
    changedItems: [],
    sendersUnknown: previous.senders === null || current.senders === null,
  };
  if (previous.senders && current.senders) {
    const before = new Map(previous.senders.map((s) => [s.sender.toLowerCase(), s]));
    const now = new Map(current.senders.map((s) => [s.sender.toLowerCase(), s]));
    for (const [key, s] of now) {
      const old = before.get(key);
      if (!old) result.newSenders.push(s);
      else if (describe(old) !== describe(s)) result.changedSenders.push({ sender: s.sender, before: describe(old), after: describe(s) });
    }
    for (const [key, s] of before) if (!now.has(key)) result.goneSenders.push(s);
  }
  // Findings that are not a pass: what a reader acts on. A pass that turns into a fail is "changed".
  const before = new Map(previous.items.map((i) => [itemKey(i), i]));
  const now = new Map(current.items.map((i) => [itemKey(i), i]));
  for (const [key, i] of now) {
    const old = before.get(key);
    if (!old) {
      if (i.status !== 'pass') result.newItems.push(i);
    } else if (old.status !== i.status) result.changedItems.push({ check: i.check, subject: i.subject, before: old.status, after: i.status });
  }
  for (const [key, i] of before) {
    if (!now.has(key) && i.status !== 'pass') result.resolvedItems.push(i);
  }
  return result;
}
