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
import { CmdletFailure, type ExchangeSession } from '../exchange/session.js';
import type { Emitter } from './events.js';
import type { Journal } from './journal.js';
import type { ActionTable } from './observe.js';
import { redactParameters } from './redact.js';
import { withRetry, type RetryPolicy } from './retry.js';
import type { SessionPool } from './session-pool.js';
import type { ChangeResult, PlanDocument } from './types.js';

export interface StepTask {
  stepId: string;
  title: string;
  changes: number;
  run(report: (message: string) => void): Promise<void>;
}

/** Runs the step tasks in order. The default is a plain loop; the CLI passes a listr2 runner on a TTY. */
export type StepRunner = (tasks: StepTask[]) => Promise<void>;

export const sequentialRunner: StepRunner = async (tasks) => {
  for (const task of tasks) await task.run(() => {});
};

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
          return;
        }
        const failed = await applyStep(step, options, results, report);
        if (failed > 0 && !options.continueOnError?.[step.stepId]) {
          stopReason = `not started: step "${step.stepId}" had ${failed} failed change${failed === 1 ? '' : 's'} (set continueOnError: true on it to go on)`;
        }
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
  journal.append({
    type: 'before',
    changeId: change.id,
    stepId: change.stepId,
    target: change.target,
    property: change.property,
    before: change.before,
    after: change.after,
    cmdlet: change.call.cmdlet,
    parameters,
    undo: change.undo ? { cmdlet: change.undo.cmdlet, parameters: redactParameters(change.undo.parameters, options.secretParameters) } : null,
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
  let result: ChangeResult;
  try {
    const { value, attempts } = await withRetry(write, {
      policy: options.retry,
      sleep: (ms) => ctx.sleep(ms),
      onRetry: (attempt, delayMs, error) =>
        emitter.emit('retry', `${change.target} ${change.property}: throttled (${message(error)}); retry ${attempt + 1} in ${delayMs} ms`, {
          changeId: change.id,
          attempt,
          delayMs,
        }),
    });
    result = { ...baseResult(change), status: 'applied', attempts, durationMs: Math.round(performance.now() - started), warnings: value.warnings };
    if (value.result !== undefined) result.result = value.result;
  } catch (error) {
    const attempts = (error as { attempts?: number }).attempts ?? 1;
    result = { ...baseResult(change), status: 'failed', error: message(error), attempts, durationMs: Math.round(performance.now() - started), warnings: [] };
    if (error instanceof CmdletFailure) result.serviceError = parseServiceError(error.record);
  }
  journal.append({
    type: 'after',
    changeId: change.id,
    outcome: result.status === 'applied' ? 'applied' : 'failed',
    ...(result.error !== undefined ? { error: result.error } : {}),
    ...(result.serviceError ? { serviceError: result.serviceError } : {}),
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
