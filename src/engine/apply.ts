/**
 * The apply phase: writes exactly the plan's changes, each one journaled before and after, retried
 * on throttling, with bounded concurrency inside a step.
 *
 * Failure semantics: a failed change never stops the other changes of its step (they are
 * independent per-object writes, and stopping half-way helps nobody). A step with a failure stops the
 * LATER steps unless it says `continueOnError: true`, because later steps may depend on it (e.g. do
 * not turn SMTP AUTH off for the organization when the allowlist could not be written).
 * Cancellation (the signal) lets writes in flight finish and starts no new ones.
 */
import { performance } from 'node:perf_hooks';
import type { ApplyOutcome, Change, RunContext, StepPlan } from '../actions/types.js';
import { parseServiceError } from '../exchange/service-error.js';
import { CmdletFailure, type ExchangeSession, type PsValue } from '../exchange/session.js';
import { SessionError } from '../errors.js';
import { stableStringify } from './fingerprint.js';
import { canReadBack, readBack } from './readback.js';
import type { Emitter } from './events.js';
import type { Journal, ReadBackRecord } from './journal.js';
import type { ActionTable } from './observe.js';
import { redactParameters } from './redact.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type { SessionPool } from './session-pool.js';
import type { ChangeResult, PlanDocument } from './types.js';

/** How a step's changes ended, so progress never shows a step as done when some were skipped or failed. */
export interface StepOutcome {
  applied: number;
  failed: number;
  skipped: number;
}

export interface StepTask {
  stepId: string;
  title: string;
  changes: number;
  run(report: (message: string) => void): Promise<StepOutcome>;
}

/** Runs the step tasks in order. The default is a plain loop; the CLI passes a listr2 runner on a TTY. */
export type StepRunner = (tasks: StepTask[]) => Promise<void>;

export const sequentialRunner: StepRunner = async (tasks) => {
  for (const task of tasks) await task.run(() => {});
};

/** The line a progress view shows for a finished step: never plain "done" when changes were skipped or failed. */
export function stepOutcomeText(outcome: StepOutcome): string {
  const parts = [`${outcome.applied} applied`];
  if (outcome.failed) parts.push(`${outcome.failed} failed`);
  if (outcome.skipped) parts.push(`${outcome.skipped} skipped`);
  return parts.join(', ');
}

export interface ApplyPlanOptions {
  plan: PlanDocument;
  actions: ActionTable;
  ctx: RunContext;
  journal: Journal;
  emitter: Emitter;
  /** Parallel writes within a step, 1..3. */
  concurrency: number;
  /**
   * Where parallel writers get their sessions, one each (a PwshSession runs one call at a time).
   * Absent: every writer shares ctx.session (fine for the in-process simulator and test doubles).
   */
  pool?: Pick<SessionPool, 'slots'>;
  retry: RetryPolicy;
  /** step id → continueOnError (absent: false). */
  continueOnError?: Readonly<Record<string, boolean>>;
  stepRunner?: StepRunner;
  secretParameters?: readonly string[];
}

export interface ApplyPlanResult {
  results: ChangeResult[];
  interrupted: boolean;
}

export async function applyPlan(options: ApplyPlanOptions): Promise<ApplyPlanResult> {
  const { plan, ctx, emitter } = options;
  const results = new Map<string, ChangeResult>();
  let stopReason: string | null = null;

  const skip = (change: Change, why: string) =>
    results.set(change.id, { ...baseResult(change), status: 'skipped', error: why, attempts: 0, durationMs: 0, warnings: [] });

  const tasks: StepTask[] = plan.steps
    .filter((step) => step.changes.length > 0)
    .map((step) => ({
      stepId: step.stepId,
      title: `${step.stepId} (${step.uses}): ${step.changes.length} change${step.changes.length === 1 ? '' : 's'}`,
      changes: step.changes.length,
      run: async (report) => {
        if (stopReason !== null || ctx.signal.aborted) {
          for (const change of step.changes) skip(change, stopReason ?? 'interrupted');
        } else {
          const failed = await applyStep(step, options, results, report);
          if (failed > 0 && !options.continueOnError?.[step.stepId]) {
            stopReason = `not started: step "${step.stepId}" had ${failed} failed change${failed === 1 ? '' : 's'} (set continueOnError: true on it to go on)`;
          }
        }
        return summarizeResults(step.changes.map((c) => results.get(c.id)).filter((r): r is ChangeResult => r !== undefined));
      },
    }));

  await (options.stepRunner ?? sequentialRunner)(tasks);

  // Anything a runner did not reach (e.g. it stopped on interrupt) is recorded as skipped.
  for (const step of plan.steps) for (const change of step.changes) if (!results.has(change.id)) skip(change, stopReason ?? 'interrupted');
  const ordered = plan.steps.flatMap((s) => s.changes.map((c) => results.get(c.id)!));
  if (ctx.signal.aborted) emitter.emit('warning', 'interrupted: writes in flight finished, no new writes were started');
  return { results: ordered, interrupted: ctx.signal.aborted };
}

function baseResult(change: Change): Pick<ChangeResult, 'changeId' | 'stepId' | 'target' | 'property' | 'before' | 'after'> {
  return { changeId: change.id, stepId: change.stepId, target: change.target, property: change.property, before: change.before, after: change.after };
}

async function applyStep(
  step: StepPlan,
  options: ApplyPlanOptions,
  results: Map<string, ChangeResult>,
  report: (message: string) => void,
): Promise<number> {
  const queue = [...step.changes];
  let failed = 0;
  let done = 0;
  // Each writer owns one session for the whole step: never two calls in flight on one session.
  const worker = async (session: ExchangeSession) => {
    const ctx = session === options.ctx.session ? options.ctx : { ...options.ctx, session };
    for (let change = queue.shift(); change; change = queue.shift()) {
      if (options.ctx.signal.aborted) {
        results.set(change.id, { ...baseResult(change), status: 'skipped', error: 'interrupted', attempts: 0, durationMs: 0, warnings: [] });
        continue;
      }
      const result = await applyChange(change, step.uses, { ...options, ctx });
      results.set(change.id, result);
      if (result.status === 'failed') failed += 1;
      done += 1;
      report(`${done}/${step.changes.length} ${change.target} ${change.property}: ${result.status}`);
    }
  };
  const workers = Math.max(1, Math.min(3, options.concurrency, step.changes.length));
  if (workers === 1 || !options.pool || options.ctx.signal.aborted) {
    // Without a pool every writer shares ctx.session (the in-process simulator and test doubles allow that).
    await Promise.all(Array.from({ length: workers }, () => worker(options.ctx.session)));
    return failed;
  }
  // The first writer starts at once on the run's session; the others join as their sign-in finishes.
  // Once the queue is empty the step is done: a sign-in still in progress is not waited for (the
  // pool keeps the session for later steps and closes it at the end).
  const [first, ...extras] = options.pool.slots(workers);
  const joined: Promise<void>[] = [];
  let queueDrained = false;
  for (const slot of extras) {
    void slot.then((session) => {
      if (!session || queueDrained) return;
      const writing = worker(session);
      // Awaited below with the others; until then a failure (e.g. the journal cannot be written)
      // must not surface as an unhandled rejection while the first writer is still busy.
      writing.catch(() => undefined);
      joined.push(writing);
    });
  }
  try {
    await worker((await first) ?? options.ctx.session);
  } catch (error) {
    // A bug or a broken journal, not a failed change: start nothing new, let the others finish.
    queue.length = 0;
    throw error;
  } finally {
    queueDrained = true;
    await Promise.allSettled(joined);
  }
  await Promise.all(joined);
  return failed;
}

async function applyChange(change: Change, uses: string, options: ApplyPlanOptions): Promise<ChangeResult> {
  const { ctx, journal, emitter } = options;
  const action = options.actions[uses];
  const parameters = redactParameters(change.call.parameters, options.secretParameters);
  // On disk before the cmdlet runs (a kill now leaves "before" without "after": rollback re-reads).
  await journal.appendDurable({
    type: 'before',
    changeId: change.id,
    stepId: change.stepId,
    target: change.target,
    ...(change.targetId ? { targetId: change.targetId } : {}),
    property: change.property,
    before: change.before,
    after: change.after,
    cmdlet: change.call.cmdlet,
    parameters,
    undo: change.undo ? { cmdlet: change.undo.cmdlet, parameters: redactParameters(change.undo.parameters, options.secretParameters) } : null,
    ...(change.accepted !== undefined ? { accepted: change.accepted } : {}),
  });
  emitter.emit('change-start', `${change.call.cmdlet} ${change.target} ${change.property}: ${show(change.before)} -> ${show(change.after)}`, {
    changeId: change.id,
    cmdlet: change.call.cmdlet,
    parameters,
  });
  const started = performance.now();
  const write = (): Promise<ApplyOutcome> =>
    action?.apply
      ? action.apply(change, ctx)
      : // The in-flight write is deliberately not given the abort signal: Ctrl-C lets it finish.
        ctx.session
          .invoke(change.call.cmdlet, change.call.parameters, { secretParameters: options.secretParameters })
          .then((r) => {
            // A write that produced any error record has failed, whatever else it returned.
            if (r.errors[0]) throw new CmdletFailure(change.call.cmdlet, r.errors[0]);
            return { warnings: r.warnings, result: r.objects.length ? (r.objects as ApplyOutcome['result']) : undefined };
          });
  // A transport failure (the host died, a timeout, a lost connection) says nothing about whether
  // Exchange ran the write: it is never retried blindly, it is read back (below).
  const lost = Symbol('reply lost');
  const attempt = (): Promise<ApplyOutcome | { [lost]: unknown }> => write().catch((error: unknown) => {
    if (error instanceof SessionError) return { [lost]: error };
    throw error;
  });
  let result: ChangeResult;
  let readBackRecord: ReadBackRecord | undefined;
  try {
    const { value: outcome, attempts } = await withRetry(attempt, {
      policy: options.retry,
      sleep: (ms) => ctx.sleep(ms),
      onRetry: (attempt, delayMs, error) =>
        emitter.emit('retry', `${change.target} ${change.property}: throttled (${message(error)}); retry ${attempt + 1} in ${delayMs} ms`, {
          changeId: change.id,
          attempt,
          delayMs,
        }),
    });
    if (lost in outcome) {
      ({ result, readBackRecord } = await afterLostReply(change, ctx.session, message(outcome[lost]), attempts, started));
    } else {
      const value = outcome;
      result = { ...baseResult(change), status: 'applied', attempts, durationMs: Math.round(performance.now() - started), warnings: value.warnings };
      if (value.result !== undefined) result.result = value.result;
    }
  } catch (error) {
    const attempts = (error as { attempts?: number }).attempts ?? 1;
    if (isLostReply(error)) {
      // e.g. a gateway timeout still there after the last retry: Exchange may have committed the write.
      ({ result, readBackRecord } = await afterLostReply(change, ctx.session, message(error), attempts, started));
    } else {
      result = { ...baseResult(change), status: 'failed', error: message(error), attempts, durationMs: Math.round(performance.now() - started), warnings: [] };
    }
    if (error instanceof CmdletFailure) result.serviceError = parseServiceError(error.record);
  }
  await journal.appendDurable({
    type: 'after',
    changeId: change.id,
    outcome: result.status === 'applied' ? 'applied' : readBackRecord?.verdict === 'unknown' ? 'unknown' : 'failed',
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.serviceError ? { serviceError: result.serviceError } : {}),
    ...(readBackRecord ? { readBack: readBackRecord } : {}),
    attempts: result.attempts,
    durationMs: result.durationMs,
    warnings: result.warnings,
    ...(result.result !== undefined ? { result: result.result } : {}),
  });
  emitter.emit('change-end', `${change.target} ${change.property}: ${result.status}${result.error ? ` (${result.error})` : ''}`, {
    changeId: change.id,
    status: result.status,
    attempts: result.attempts,
    durationMs: result.durationMs,
  });
  return result;
}

/**
 * A cmdlet error that says the request or its answer was lost in transit, not that Exchange refused
 * the write: a timeout (HTTP 408/504, "timed out") or a broken connection, as .NET reports them.
 * Such a write may have been committed, so it is read back instead of being journaled failed.
 */
const LOST_REPLY = [
  /\b(408|504)\b/,
  /time-?out|timed out/i,
  /HttpRequestException|TaskCanceledException|SocketException|WebException|System\.IO\.IOException/,
  /connection (was|has been) (closed|reset|aborted|lost)|forcibly closed|unexpected EOF|remote party has closed/i,
];

export function isLostReply(error: unknown): boolean {
  if (error instanceof SessionError) return true;
  if (!(error instanceof CmdletFailure)) return false;
  const text = `${error.record.exceptionType} ${error.record.fullyQualifiedErrorId} ${error.record.message}`;
  return LOST_REPLY.some((re) => re.test(text));
}

async function afterLostReply(
  change: Change,
  session: ExchangeSession,
  why: string,
  attempts: number,
  started: number,
): Promise<{ result: ChangeResult; readBackRecord: ReadBackRecord }> {
  const readBackRecord = await readBackAfterLostReply(change, session);
  const durationMs = Math.round(performance.now() - started);
  const result: ChangeResult =
    readBackRecord.verdict === 'applied'
      ? { ...baseResult(change), status: 'applied', attempts, durationMs, warnings: [`the reply was lost (${why}); a read-back shows the write happened`] }
      : {
          ...baseResult(change),
          status: 'failed',
          error:
            readBackRecord.verdict === 'not-applied'
              ? `${why}; a read-back shows the write did not happen (still ${show(change.before)})`
              : `${why}; outcome unknown: ${readBackRecord.error} (rollback re-reads it)`,
          attempts,
          durationMs,
          warnings: [],
        };
  result.readBack = readBackRecord;
  return { result, readBackRecord };
}

/**
 * After a lost reply: read the value the write targets. Equal to the written value: applied; equal to
 * the value observed before: not applied; anything else, or a read that fails: unknown.
 */
async function readBackAfterLostReply(change: Change, session: ExchangeSession): Promise<ReadBackRecord> {
  if (!canReadBack(change.call)) return { verdict: 'unknown', error: `${change.call.cmdlet} cannot be read back` };
  let value: PsValue | undefined;
  try {
    value = await readBack(session, change.call);
  } catch (error) {
    return { verdict: 'unknown', error: `the read-back failed too (${message(error)})` };
  }
  if (value === undefined) return { verdict: 'unknown', error: 'the read-back returned no value' };
  if (sameValue(value, change.after)) return { verdict: 'applied', value };
  if (sameValue(value, change.before)) return { verdict: 'not-applied', value };
  return { verdict: 'unknown', value, error: `the read-back found ${show(value)}, neither the value before (${show(change.before)}) nor the one written` };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sameValue(a: PsValue | undefined, b: PsValue | undefined): boolean {
  return stableStringify(a) === stableStringify(b);
}

export function show(value: unknown): string {
  if (value === null) return '$null';
  if (value === true) return '$true';
  if (value === false) return '$false';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function summarizeResults(results: readonly ChangeResult[]): { applied: number; failed: number; skipped: number } {
  const summary = { applied: 0, failed: 0, skipped: 0 };
  for (const r of results) summary[r.status] += 1;
  return summary;
}
