/**
 * The fleet result: one document for a fleet run (or one shard of it), one entry per tenant carrying
 * that tenant's own report (plan, verify or apply document, exactly as its single-tenant run returns
 * it). `--format json` prints it, `--result` saves it, `fleet merge` joins the shards' results into
 * the result an unsharded run would have given (timings apart). schemas/fleet.schema.json describes it.
 */
import { CmdletFailure } from '../exchange/session.js';
import { describeServiceError } from '../exchange/service-error.js';
import { ExitCode, ExoPlaybookError, InputError, RefusedError } from '../errors.js';
import type { ApplyReport, PlanDocument, VerifyReport } from '../engine/types.js';
import { PlaybookInvalid, formatProblem } from '../playbook/problems.js';
import type { Shard } from './inventory.js';

/** A fleet result file (--result) is read whole, so it is bounded: 1,000 tenants' reports fit many times over. */
export const MAX_FLEET_RESULT_BYTES = 256 * 1024 * 1024;

export const FLEET_FORMAT_VERSION = 1 as const;

export type FleetCommand = 'validate' | 'plan' | 'apply' | 'verify' | 'rollback';

/** What became of one tenant, in one word (the report's status column). */
export type TenantStatus = 'ok' | 'changes' | 'drift' | 'partial' | 'refused' | 'error' | 'not-run';

export interface TenantError {
  kind: 'input' | 'sign-in' | 'session' | 'refused' | 'service' | 'internal';
  message: string;
  /** RefusedError's guard (lock, stale-plan, breakage, confirmation, interrupted, ...). */
  guard?: string;
  details?: string[];
}

export interface FleetTenantResult {
  /** The tenant's position in the inventory: reports list tenants in inventory order. */
  index: number;
  id: string;
  name?: string;
  tenantId?: string;
  tags: string[];
  /** exchange or sim:<state.json> (normalized). */
  target: string;
  /** The shard (1..N of the run's N) the tenant belongs to, when the run was sharded. */
  status: TenantStatus;
  exitCode: number;
  /** One line: what happened, or why not (the report's message column). */
  message: string;
  error?: TenantError;
  /** Timings: left out when results are compared. */
  durationMs: number;
  /** plan (also the plan phase of a fleet apply without --plan). */
  plan?: PlanDocument;
  /** Where this tenant's saved plan is (fleet plan --out, fleet apply's own plan phase). */
  planFile?: string;
  verify?: VerifyReport;
  /** apply and rollback. */
  apply?: ApplyReport;
  /** The run folder (runs/<tenant>/<run>) of an apply or rollback. */
  runDir?: string;
}

export interface FleetResult {
  formatVersion: typeof FLEET_FORMAT_VERSION;
  kind: 'fleet';
  command: FleetCommand;
  /** sha256 of the playbook file's bytes (a per-tenant plan's playbook hash also covers the tenant's files). */
  playbook: { name?: string; file: string; sha256: string };
  inventory: { file: string; sha256: string };
  /** What the run was asked for: --tenants, and the shard when sharded. */
  selection: { tenants?: string[]; shard?: Shard; ids: string[] };
  /** true when every tenant ran against a simulated target. */
  simulated: boolean;
  startedAt: string;
  finishedAt: string;
  tenants: FleetTenantResult[];
  summary: FleetSummary;
  /** The worst of the tenants' exit codes (exitSeverity). */
  exitCode: number;
}

export interface FleetSummary {
  tenants: number;
  byStatus: Partial<Record<TenantStatus, number>>;
  /** Sums over the tenants' plans (plan, apply). */
  changes: number;
  blockingRisks: number;
  applied: number;
  failed: number;
  /** Verify findings that fail (verify, apply's verify). */
  failingChecks: number;
  /** exit code → tenant ids that gave it (the report says which tenant gave which). */
  byExitCode: Record<string, string[]>;
}

/**
 * How bad an exit code is, for "the worst of the tenants' codes": an error (1: bad input, sign-in,
 * the service; the tenant's state is unknown) is worst, then a safety refusal (4), a partial apply
 * (3), changes or drift (2), success (0).
 */
const SEVERITY: Record<number, number> = { 0: 0, 2: 1, 3: 2, 4: 3, 1: 4 };

/** How bad one exit code is (higher is worse; an unknown code is worst of all). */
export function exitSeverity(code: number): number {
  return SEVERITY[code] ?? 5;
}

export function worstExitCode(codes: Iterable<number>): number {
  let worst: number = ExitCode.ok;
  for (const code of codes) if ((SEVERITY[code] ?? 5) > (SEVERITY[worst] ?? 5)) worst = code;
  return worst;
}

export function summarize(tenants: readonly FleetTenantResult[]): FleetSummary {
  const byStatus: Partial<Record<TenantStatus, number>> = {};
  const byExitCode: Record<string, string[]> = {};
  let changes = 0;
  let blockingRisks = 0;
  let applied = 0;
  let failed = 0;
  let failingChecks = 0;
  for (const t of tenants) {
    byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
    (byExitCode[String(t.exitCode)] ??= []).push(t.id);
    const plan = t.apply?.plan ?? t.plan;
    if (plan) {
      changes += plan.summary.changes;
      blockingRisks += plan.summary.blockingRisks;
    }
    if (t.apply) {
      applied += t.apply.summary.applied;
      failed += t.apply.summary.failed;
    }
    const verify = t.apply?.verify ?? t.verify;
    if (verify) failingChecks += verify.summary.fail;
  }
  return { tenants: tenants.length, byStatus, changes, blockingRisks, applied, failed, failingChecks, byExitCode };
}

/** What an error a tenant's run threw means for its row: exit code, status, one line, and the parts. */
export function tenantFailure(error: unknown): Pick<FleetTenantResult, 'status' | 'exitCode' | 'message' | 'error'> {
  if (error instanceof PlaybookInvalid) {
    const first = error.problems[0];
    const message = first ? formatProblem({ ...first, hint: undefined as unknown as string }).split('\n')[0]! : error.message;
    return { status: 'error', exitCode: ExitCode.error, message: `${message}${error.problems.length > 1 ? ` (and ${error.problems.length - 1} more problem(s))` : ''}`, error: { kind: 'input', message: error.message } };
  }
  if (error instanceof RefusedError) {
    return { status: 'refused', exitCode: ExitCode.refused, message: `refused (${error.guard}): ${error.message}`, error: { kind: 'refused', message: error.message, guard: error.guard, ...(error.details.length ? { details: error.details } : {}) } };
  }
  if (error instanceof CmdletFailure) {
    const text = `${error.cmdlet} failed: ${describeServiceError(error.record)}`;
    return { status: 'error', exitCode: ExitCode.error, message: text, error: { kind: /^Connect-/.test(error.cmdlet) ? 'sign-in' : 'service', message: text } };
  }
  if (error instanceof ExoPlaybookError) {
    // The sign-in layer says "Sign-in to <tenant> failed (<how>): <why>. Check …" (connect/sign-in-error.ts).
    const located = error instanceof InputError && error.location ? `${error.location.file}:${error.location.line}:${error.location.col}: ` : '';
    const kind: TenantError['kind'] = /^Sign-in to /.test(error.message) ? 'sign-in' : error instanceof InputError ? 'input' : 'session';
    const hint = error instanceof InputError && error.hint ? [error.hint] : [];
    const details = [...hint, ...((error as { details?: string[] }).details ?? [])];
    return { status: 'error', exitCode: error.exitCode, message: `${located}${error.message}`, error: { kind, message: `${located}${error.message}`, ...(details.length ? { details } : {}) } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'error', exitCode: ExitCode.error, message: `internal error (please report): ${message}`, error: { kind: 'internal', message } };
}

/** One line per tenant for the text report and the progress line. */
export function tenantLine(t: FleetTenantResult): string {
  return `${t.id}: ${t.message} (exit ${t.exitCode})`;
}

// ---------------------------------------------------------------------------------------------
// fleet merge

export interface MergeInput {
  file: string;
  result: FleetResult;
}

/**
 * The shards' results as one: the result an unsharded run of the same selection would have given
 * (tenants in inventory order; timings are each tenant's own). Refused (exit 1, naming the file):
 * results of another playbook, inventory, command or selection, a shard given twice, a tenant twice.
 * A shard that is missing leaves its tenants in the report as not run (exit 1), never silently out.
 */
export function mergeResults(inputs: readonly MergeInput[]): FleetResult {
  if (!inputs.length) throw new InputError('fleet merge: no results given', undefined, 'pass the result files each shard wrote (--result), e.g. results/*.json');
  const [first, ...rest] = inputs;
  const base = first!.result;
  const selectionKey = (r: FleetResult) => JSON.stringify(r.selection.tenants ?? []);
  for (const input of rest) {
    const r = input.result;
    const foreign = r.playbook.sha256 !== base.playbook.sha256
      ? `another playbook (${r.playbook.file}, sha256 ${r.playbook.sha256.slice(0, 12)}) than ${first!.file} (${base.playbook.file}, sha256 ${base.playbook.sha256.slice(0, 12)})`
      : r.inventory.sha256 !== base.inventory.sha256
        ? `another inventory (${r.inventory.file}, sha256 ${r.inventory.sha256.slice(0, 12)}) than ${first!.file} (${base.inventory.file}, sha256 ${base.inventory.sha256.slice(0, 12)})`
        : r.command !== base.command
          ? `another command (fleet ${r.command}) than ${first!.file} (fleet ${base.command})`
          : selectionKey(r) !== selectionKey(base)
            ? `another --tenants selection than ${first!.file}`
            : (r.selection.shard?.n ?? 1) !== (base.selection.shard?.n ?? 1)
              ? `another number of shards (${r.selection.shard?.n ?? 1}) than ${first!.file} (${base.selection.shard?.n ?? 1})`
              : undefined;
    if (foreign) throw new InputError(`fleet merge: ${input.file} is a result of ${foreign}`, { file: input.file, line: 1, col: 1 }, 'merge only the shards of one run: same playbook, inventory, command, --tenants and N');
  }
  const shards = new Map<number, string>();
  const tenants = new Map<string, FleetTenantResult>();
  for (const input of inputs) {
    const k = input.result.selection.shard?.k ?? 1;
    const seen = shards.get(k);
    if (seen) throw new InputError(`fleet merge: ${input.file} is shard ${k} again (also ${seen})`, { file: input.file, line: 1, col: 1 }, 'pass each shard\'s result once');
    shards.set(k, input.file);
    for (const t of input.result.tenants) {
      if (tenants.has(t.id)) throw new InputError(`fleet merge: tenant ${t.id} is in ${input.file} and in another result`, { file: input.file, line: 1, col: 1 });
      tenants.set(t.id, t);
    }
  }
  const n = base.selection.shard?.n ?? 1;
  const missingShards = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !shards.has(k));
  const merged: FleetTenantResult[] = [...tenants.values()];
  // Tenants of the selection no result carries (a shard that never reported): rows that say so.
  for (const id of base.selection.ids) {
    if (tenants.has(id)) continue;
    merged.push({
      index: Number.MAX_SAFE_INTEGER,
      id,
      tags: [],
      target: 'unknown',
      status: 'not-run',
      exitCode: ExitCode.error,
      message: `no result: ${missingShards.length ? `shard(s) ${missingShards.join(', ')} of ${n} missing from the merge` : 'no shard reported this tenant'}`,
      error: { kind: 'input', message: 'no shard result for this tenant' },
      durationMs: 0,
    });
  }
  merged.sort((a, b) => a.index - b.index || a.id.localeCompare(b.id));
  const times = inputs.map((i) => i.result);
  const startedAt = times.map((r) => r.startedAt).sort()[0]!;
  const finishedAt = times.map((r) => r.finishedAt).sort().at(-1)!;
  const { shard: _shard, ...selection } = base.selection;
  void _shard;
  // The playbook's name comes from a tenant's report: a shard whose tenants all failed (or had none) has none.
  const name = times.map((r) => r.playbook.name).find(Boolean);
  return finishResult({ ...base, playbook: { ...(name ? { name } : {}), file: base.playbook.file, sha256: base.playbook.sha256 }, selection, startedAt, finishedAt, tenants: merged });
}

/** Summary and exit code from the tenants (a new run, a merge). */
export function finishResult(result: Omit<FleetResult, 'summary' | 'exitCode' | 'simulated'>): FleetResult {
  const known = result.tenants.filter((t) => t.target !== 'unknown');
  return {
    ...result,
    simulated: known.length > 0 && known.every((t) => t.target.startsWith('sim:')),
    summary: summarize(result.tenants),
    exitCode: worstExitCode(result.tenants.map((t) => t.exitCode)),
  };
}

/** Reads one result file: refused (exit 1, located at the file) when it is not a fleet result of this format. */
export function parseFleetResult(text: string, file: string): FleetResult {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new InputError(`${file} is not JSON (${(error as Error).message})`, { file, line: 1, col: 1 }, 'pass the files `fleet … --result <file>` (or --format json) wrote');
  }
  const r = data as Partial<FleetResult>;
  if (!r || typeof r !== 'object' || r.kind !== 'fleet' || !Array.isArray(r.tenants) || !r.playbook || !r.inventory || !r.selection) {
    throw new InputError(`${file} is not a fleet result`, { file, line: 1, col: 1 }, 'pass the files `fleet … --result <file>` (or --format json) wrote');
  }
  if (r.formatVersion !== FLEET_FORMAT_VERSION) throw new InputError(`${file}: fleet result formatVersion ${String(r.formatVersion)} is not ${FLEET_FORMAT_VERSION}`, { file, line: 1, col: 1 }, 'merge results written by the same version of exo-playbook');
  return r as FleetResult;
}
