/**
 * `apply` as an engine command: lock the tenant, observe, plan (or check a saved plan), refuse what a
 * guard forbids, confirm, write journaled, then verify. The returned ApplyReport is what the CLI turns
 * into an exit code.
 */
import { signInEnvFor } from './deps.js';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { RefusedError } from '../errors.js';
import { applyPlan, summarizeResults, type StepRunner } from './apply.js';
import { normalizeTarget, openRunSession } from './connect.js';
import { createEmitter, type Emitter } from './events.js';
import { Journal } from './journal.js';
import { acquireTenantLock, type LockOptions, type TenantLock } from './lock.js';
import { observeSteps } from './observe.js';
import { blockingRisks } from './plan.js';
import type { PlaybookSource } from './playbook-source.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { driftOf, onDevice, planFromObservations } from './run-plan.js';
import type { RunOptions } from './run-options.js';
import { createRunDir, prepareRunsDir, RUN_FILES, writeRunFile } from './rundir.js';
import { assertPlanStillValid, assertSameChanges, readSavedPlan } from './saved-plan.js';
import { createSessionPool, MAX_SESSIONS, type SessionPool } from './session-pool.js';
import { spreadingReads } from './spread-reads.js';
import { countingSession, InterruptedRead, type CountingSession } from './session-guards.js';
import { signedInTenant, tenantRef } from './tenant-ref.js';
import type { ApplyReport, PlanDocument } from './types.js';
import { buildVerifyReport } from './verify.js';
import { show } from './apply.js';
import type { OpenedRun } from './connect.js';
import type { Risk, RunContext } from '../actions/types.js';
import { riskCount } from '../actions/smtp-auth/usage/usage-table.js';
import type { ChangeResult, VerifyReport } from './types.js';
import { readsAfterWrites } from './verify-after-write.js';
import { proofJournalRecords } from '../actions/smtp-auth/oauth-senders/verify.js';
import { clockOf, isWriteCmdlet, type ExchangeSession, type InvokeOptions } from '../exchange/session.js';

export interface WriteRunOptions extends RunOptions {
  runsDir: string;
  /** --yes */
  yes: boolean;
  /** Asks the user on a TTY; absent when there is none (then only --yes lets a write happen). */
  confirm?: (plan: PlanDocument) => Promise<boolean>;
  /** Shows the plan before any guard or question. */
  showPlan?: (plan: PlanDocument) => void;
  /** Called once the run directory exists (e.g. to say where the journal is). */
  onRunDir?: (runDir: string) => void;
  concurrency: number;
  retry?: RetryPolicy;
  /** Ctrl-C, SIGTERM, SIGHUP: reads stop at once; writes in flight finish, no new ones start. */
  signal?: AbortSignal;
  /** Told when the run starts writing and when it verifies (so a stop message can tell the truth). */
  onPhase?: (phase: 'writing' | 'verifying') => void;
  stepRunner?: StepRunner;
  /** summary.md content; default JSON of the report's summary. */
  renderSummary?: (report: ApplyReport) => string;
}

export interface ApplyCommandOptions extends WriteRunOptions {
  playbookFile: string;
  /** --plan: apply exactly this saved plan. */
  planFile?: string;
  acceptBreakage?: readonly string[];
  /** --accept-no-usage-evidence */
  acceptNoUsageEvidence?: boolean;
}

export async function runApply(options: ApplyCommandOptions): Promise<ApplyReport> {
  const now = options.now ?? (() => new Date());
  const emitter = createEmitter(options.sinks ?? [], now);
  const target = normalizeTarget(options.target, options.cwd);
  const source = await options.deps.loadPlaybook(options.playbookFile, { env: options.env, signInEnv: signInEnvFor(target) });
  const tenant = tenantRef(source, target);
  prepareRunsDir(options.runsDir);
  emitter.emit('run-start', `apply ${source.playbook.name}`, { command: 'apply', playbook: source.playbook.name, change: source.playbook.change });
  // A simulated tenant is locked before connecting (its key is its state file); against Exchange the
  // key is the tenant read after sign-in (lockAfterSignIn), taken before any write.
  const lockOptions = { organization: tenant.organization, target, command: `apply ${source.playbook.name}`, env: options.env, now };
  let lock = target.startsWith('sim:') ? acquireTenantLock(lockOptions) : undefined;
  const counting = writeCounter();
  const run = await openRunSession(options.deps, source, target, {
    env: options.env,
    readOnly: false,
    emitter,
    ...onDevice(options),
    wrap: counting.wrap,
    // --concurrency N: the N - 1 extra hosts start once the run's own host has started, and sign in once it has signed in (connect.ts).
    extraSessions: Math.min(MAX_SESSIONS, Math.max(1, Math.floor(options.concurrency))) - 1,
  }).catch((error) => {
    lock?.release();
    throw error;
  });
  lock ??= await lockAfterSignIn(run, lockOptions);
  const signal = options.signal;
  // --concurrency > 1: the extra hosts start and sign in now, while the
  // observe phase reads, so they are ready at the first write. A run that then writes nothing (no
  // change, declined, refused, interrupted) closes them unused: a sign-in changes nothing in the tenant.
  const pool = writePool(run, options, emitter);
  if (options.concurrency > 1) pool.openAll();
  try {
    // Reads get the stop signal (withReadSignal); observeContext itself keeps the shared reads verify reuses.
    // With --concurrency > 1 the reads also go to the extra sessions as they sign in (spread-reads.ts).
    const observeContext = run.newContext(signal, undefined, options.concurrency > 1 ? spreadingReads(run.session, pool.slots(options.concurrency).slice(1)) : undefined);
    const observations = await observeSteps(source.playbook, options.deps.actions, withReadSignal(observeContext, signal), emitter).catch((error: unknown) => {
      // Ctrl-C, SIGTERM or SIGHUP while reading: stop at once, nothing was written.
      throw signal?.aborted ? interruptedBeforeWriting() : error;
    });
    if (signal?.aborted) throw interruptedBeforeWriting();
    // The plan and every risk come from this observation, also with --plan: a saved plan is a
    // promise of what will be written (its changes must equal these exactly), never a permission.
    const plan = planFromObservations(source, tenant, observations, options, now());
    if (options.planFile) {
      const saved = readSavedPlan(options.planFile);
      assertPlanStillValid(saved, { playbookHash: source.hash, tenant, observations }, options.planFile);
      assertSameChanges(saved, plan, options.planFile);
    }
    const blockingNote = plan.summary.blockingRisks ? `; ${plan.summary.blockingRisks} blocking risk(s): refused unless accepted` : '';
    emitter.emit('plan', `${plan.summary.changes} change(s) to write${blockingNote}`, { summary: plan.summary });
    options.showPlan?.(plan);
    // A saved plan was approved when it was reviewed; a fresh one needs --yes or a TTY answer.
    await guardWrite(plan, { ...options, approved: Boolean(options.planFile) }, emitter);
    if (signal?.aborted) throw interruptedBeforeWriting();

    const continueOnError = Object.fromEntries(source.playbook.steps.map((s) => [s.id, s.continueOnError ?? false]));
    return await writeJournaled(plan, source, run, counting.total, { ...options, continueOnError, kind: 'apply', pool }, emitter, async (results, readers) => {
      // Nothing written: the observation is still the tenant's state, so verify reads nothing again.
      // Otherwise it reads again only what the writes could have changed (verify-after-write.ts).
      let fresh = observations;
      if (counting.total() > 0) {
        const seed = await readsAfterWrites(observeContext, withReadSignal(run.newContext(signal), signal), plan.steps.flatMap((s) => s.changes), results, readers);
        // The extras have done their share (the re-reads above): they sign out while the rest of
        // verify reads through the run's own session (close() never rejects; `finally` waits for it).
        void pool.close();
        fresh = await observeSteps(source.playbook, options.deps.actions, withReadSignal(run.newContext(signal, seed), signal), emitter);
      }
      return buildVerifyReport({ playbook: source.playbook, playbookRef: plan.playbook, tenant, observations: fresh, actions: options.deps.actions, checkedAt: now() });
    });
  } finally {
    // The extras (killed if still signing in) and the run's own session close side by side.
    await Promise.all([pool.close(), run.session.close(), run.abandonExtras?.()]);
    lock.release();
  }
}

/**
 * Against Exchange: the lock keyed by the tenant the session signed in to (signedInTenant), so a
 * playbook naming the tenant by its domain and another by its tenant id meet on one lock. Closes
 * the run's sessions when it cannot be taken (held, or the tenant cannot be read).
 */
export async function lockAfterSignIn(run: OpenedRun, options: Omit<LockOptions, 'tenant'>): Promise<TenantLock> {
  try {
    return acquireTenantLock({ ...options, tenant: await signedInTenant(run.session) });
  } catch (error) {
    await Promise.all([run.session.close(), run.abandonExtras?.()]);
    throw error;
  }
}

/**
 * The sessions of the write phase (session-pool.ts): the run's own and, with --concurrency > 1, up to
 * two more, opened by `openAll()` or at the first step with several changes.
 */
export function writePool(run: OpenedRun, options: Pick<WriteRunOptions, 'concurrency' | 'signal'>, emitter: Emitter): SessionPool {
  return createSessionPool({
    primary: run.session,
    ...(run.openExtra ? { openExtra: run.openExtra } : {}),
    max: options.concurrency,
    ...(options.signal ? { signal: options.signal } : {}),
    onOpening: (index, of) => emitter.emit('connect', `opening session ${index} of ${of} for parallel writes`, { session: index }),
    onOpened: (index, of) => emitter.emit('connect', `session ${index} of ${of} signed in for parallel writes`, { session: index }),
    onWarning: (message) => emitter.emit('warning', message),
  });
}

/** Counts write calls over every session of a run (the write pool opens more than one). */
export function writeCounter(): { wrap: (s: ExchangeSession) => ExchangeSession; total: () => number } {
  const counted: CountingSession[] = [];
  return {
    wrap: (s) => {
      const c = countingSession(s);
      counted.push(c);
      return c;
    },
    total: () => counted.reduce((sum, c) => sum + c.writeCalls, 0),
  };
}

/** The guards before any write: blocking risks, then confirmation. Throws RefusedError (exit 4). */
export async function guardWrite(plan: PlanDocument, options: Pick<WriteRunOptions, 'yes' | 'confirm'> & { approved: boolean }, emitter: Emitter): Promise<void> {
  const blocking = blockingRisks(plan);
  if (blocking.length) {
    const line = (r: Risk) => `${r.subject}: ${r.message}${riskCount(r)}`;
    const unfinished = blocking.filter((r) => r.kind === 'unfinished-search');
    const noEvidence = blocking.filter((r) => r.kind === 'no-usage-evidence' || r.kind === 'stale-evidence');
    const breaking = blocking.filter((r) => r.kind === 'will-break');
    const underived = blocking.filter((r) => r.kind === 'underived-effect');
    const other = blocking.filter((r) => !['unfinished-search', 'no-usage-evidence', 'stale-evidence', 'will-break', 'underived-effect'].includes(r.kind));
    const headline = unfinished.length
      ? 'SMTP AUTH would go off before the historical search this run submits has finished; nothing was written'
      : noEvidence.length
        ? noEvidence.every((r) => r.kind === 'stale-evidence')
          ? 'usage evidence too old: a source ended more than maxAgeDays before this run, and the plan takes SMTP AUTH away; nothing was written'
          : 'no usage evidence: nothing this run read says who still submits with SMTP AUTH, and the plan takes it away; nothing was written'
        : breaking.length
          ? `${breaking.length} sender${breaking.length === 1 ? '' : 's'} would lose SMTP AUTH (blocking risks); nothing was written`
          : underived.length
            ? `${underived.length} powershell write${underived.length === 1 ? '' : 's'} whose effect on SMTP AUTH cannot be derived (blocking risks); nothing was written`
            : `${blocking.length} blocking risk${blocking.length === 1 ? '' : 's'}; nothing was written`;
    throw new RefusedError(headline, 'breakage', [
      ...[...unfinished, ...noEvidence, ...breaking, ...underived, ...other].map(line),
      ...(breaking.length ? ["add them to the allowlist, or accept them with --accept-breakage <a@x,b@y|all> or the playbook's acceptBreakage"] : []),
    ]);
  }
  if (plan.summary.changes === 0 || options.approved || options.yes) return;
  if (!options.confirm) {
    throw new RefusedError('no terminal to confirm the plan, and --yes was not given; nothing was written', 'confirmation', [
      plan.kind === 'rollback'
        ? 'review the rollback plan above, then run the same rollback again with --yes'
        : 'review the plan, then run again with --yes (or save it with `plan --out plan.json` and `apply --plan plan.json`)',
    ]);
  }
  emitter.emit('confirm', 'asking for confirmation');
  if (!(await options.confirm(plan))) throw new RefusedError('not confirmed; nothing was written', 'confirmation');
}


/**
 * The journaled write shared by apply and rollback: run directory, plan.json, journal records, the
 * writes, the verify that follows, summary.md.
 */
export async function writeJournaled(
  plan: PlanDocument,
  source: Pick<PlaybookSource, 'playbook'> | null,
  run: OpenedRun,
  writeCalls: () => number,
  options: WriteRunOptions & { continueOnError: Record<string, boolean>; kind: 'apply' | 'rollback'; undoes?: string; pool?: SessionPool },
  emitter: Emitter,
  /** `readers`: the pool's extra sessions, still signed in, for reads verify may spread over them. */
  verify: (results: readonly ChangeResult[], readers: readonly ExchangeSession[]) => Promise<VerifyReport>,
): Promise<ApplyReport> {
  const now = options.now ?? (() => new Date());
  const runDir = createRunDir(options.runsDir, options.kind === 'rollback' ? `${plan.playbook.name}-rollback` : plan.playbook.name, now());
  writeRunFile(runDir, RUN_FILES.plan, `${JSON.stringify(plan, null, 2)}\n`);
  options.onRunDir?.(runDir);
  const journal = Journal.open(join(runDir, RUN_FILES.journal), now);
  const signal = options.signal ?? new AbortController().signal;
  // Extra sessions for --concurrency > 1: the caller's (apply opened them early), or opened only when
  // a step has several changes to write.
  const pool = options.pool ?? writePool(run, { concurrency: options.concurrency, signal }, emitter);
  // Every journal ends with a run-end record, whatever fails after run-start (a read during the
  // verify, a renderer, the journal itself as far as it still can be written).
  let summary = { applied: 0, failed: 0, skipped: 0 };
  let ended = false;
  try {
    journal.append({
      type: 'run-start',
      kind: options.kind,
      playbook: plan.playbook,
      tenant: plan.tenant,
      host: hostname(),
      pid: process.pid,
      ...(options.undoes ? { undoes: options.undoes } : {}),
    });
    options.onPhase?.('writing');
    const { results, interrupted } = await applyPlan({
      plan,
      actions: source ? options.deps.actions : {},
      ctx: run.newContext(signal),
      journal,
      emitter,
      concurrency: options.concurrency,
      pool,
      retry: options.retry ?? DEFAULT_RETRY,
      continueOnError: options.continueOnError,
      ...(options.stepRunner ? { stepRunner: options.stepRunner } : {}),
    });
    // A pool of its own is done once the writes are: it signs out while verify reads through the run's
    // own session (close() never rejects; `finally` waits for it). A pool the caller gave lends its
    // sessions to verify's reads, and the caller closes it beside the run's own session.
    if (!options.pool) void pool.close();
    summary = summarizeResults(results);
    for (const r of results.filter((x) => x.status === 'failed')) emitter.emit('error', `failed: ${r.target} ${r.property} ${show(r.after)}: ${r.error}`, { changeId: r.changeId });
    const report: ApplyReport = { plan, runDir, results, summary, interrupted, writeCalls: writeCalls() };
    if (!interrupted) {
      options.onPhase?.('verifying');
      try {
        // The verify's reads get the stop signal (the callers wrap them): a stop ends it at once, every write has finished.
        report.verify = await verify(results, options.pool ? pool.ready().map((s) => readingSession(s, signal)) : []);
        const drift = driftOf(report.verify);
        // The OAuth proofs' outcomes (smtp-auth/oauth-senders) are kept with the writes they prove.
        for (const record of proofJournalRecords(report.verify.findings)) journal.append(record);
        emitter.emit('verify', report.verify.compliant ? `compliant after ${options.kind}` : `drift after ${options.kind}: ${report.verify.summary.fail} failing check(s): ${drift.text}`, { summary: report.verify.summary, ...drift.fields });
      } catch (error) {
        if (!signal.aborted) throw error;
        delete report.verify;
        report.interrupted = true;
      }
    }
    journal.append({ type: 'run-end', summary, interrupted: report.interrupted });
    ended = true;
    writeRunFile(runDir, RUN_FILES.summary, options.renderSummary ? options.renderSummary(report) : `${JSON.stringify(report.summary)}\n`);
    emitter.emit('run-end', `${summary.applied} applied, ${summary.failed} failed, ${summary.skipped} skipped${report.interrupted ? ' (interrupted)' : ''}`, { summary, interrupted: report.interrupted, runDir });
    return report;
  } catch (error) {
    if (!ended) {
      try {
        journal.append({ type: 'run-end', summary, interrupted: signal.aborted, error: error instanceof Error ? error.message : String(error) });
      } catch {
        // The journal itself is what failed: the error below says so.
      }
    }
    throw error;
  } finally {
    if (!options.pool) await pool.close();
    journal.close();
  }
}

/**
 * A context whose reads are given the stop signal (the simulator and the pwsh bridge then end them at
 * once). Writes never get it: a write in flight always finishes, so the journal can say what happened.
 */
export function withReadSignal(ctx: RunContext, signal: AbortSignal | undefined): RunContext {
  if (!signal) return ctx;
  return { ...ctx, session: readingSession(ctx.session, signal) };
}

/** A session whose reads are given the stop signal (see withReadSignal); writes never are. */
export function readingSession(session: ExchangeSession, signal: AbortSignal | undefined): ExchangeSession {
  if (!signal) return session;
  const add = (cmdlet: string, options?: InvokeOptions): InvokeOptions | undefined => (isWriteCmdlet(cmdlet) ? options : { ...options, signal });
  const reading: ExchangeSession = {
    kind: session.kind,
    ...clockOf(session),
    invoke: (cmdlet, parameters, options) => {
      if (!isWriteCmdlet(cmdlet) && signal.aborted) return Promise.reject(new InterruptedRead(cmdlet));
      return session.invoke(cmdlet, parameters, add(cmdlet, options));
    },
    stream: (cmdlet, parameters, options) => {
      if (!isWriteCmdlet(cmdlet) && signal.aborted) throw new InterruptedRead(cmdlet);
      return session.stream(cmdlet, parameters, add(cmdlet, options));
    },
    close: () => session.close(),
  };
  return reading;
}


/** The refusal for a stop that came before any write: exit 4, and the truth that nothing was written. */
export function interruptedBeforeWriting(): RefusedError {
  return new RefusedError('interrupted while reading; nothing was written', 'interrupted');
}
