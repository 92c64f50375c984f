/**
 * What plan, apply, verify and rollback share at the CLI edge: event sinks (line-per-event progress,
 * --log-file), output by --format, the TTY confirmation, and Ctrl-C handling.
 */
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultDeps, type EngineDeps } from '../engine/deps.js';
import { ExitCode } from '../errors.js';
import { openEventLog } from '../engine/event-log.js';
import type { ApplyReport, EventSink, PlanDocument, VerifyReport } from '../engine/types.js';
import { renderApplyJson, renderJson, renderVerifyJson } from '../report/json.js';
import { planTextIsCut, renderApplyText, renderPlanText, renderVerifyText } from '../report/text.js';
import { confirmationQuestion } from '../engine/impact.js';
import { renderVerifyJunit } from '../report/junit.js';
import { renderPlanCsv, renderVerifyCsv } from '../report/dossier-csv.js';
import { renderApplyHtml, renderPlanHtml, renderVerifyHtml, type HtmlOptions } from '../report/html.js';
import { FULL_MARKDOWN, renderApplyMarkdown, renderPlanMarkdown, renderVerifyMarkdown } from '../report/markdown.js';
import type { CliIO } from './io.js';
import { OPTION_TABLE, type OptionName } from './options.js';
import { lineProgress, listrProgress, progressOnTerminal, stepRunnerFor, type ProgressDisplay } from '../engine/progress.js';
import type { StepRunner } from '../engine/apply.js';
import { pruneRuns } from '../engine/retention.js';

/** Adds options from the one option table: a new common option is a one-line change per command. */
export function withOptions(command: Command, names: readonly OptionName[], formats?: readonly string[]): Command {
  for (const name of names) command.addOption(name === 'format' ? OPTION_TABLE.format(formats) : OPTION_TABLE[name]());
  return command;
}

export interface CommonFlags {
  target: string;
  format: string;
  logFile?: string;
  runsDir?: string;
  concurrency?: number;
  yes?: boolean;
  acceptBreakage?: string[];
  acceptNoUsageEvidence?: boolean;
  /** --max-chars: the markdown budget. */
  maxChars?: number;
  /** --workload-identity <appId> (plan, verify). */
  workloadIdentity?: string;
  /** --compare <result.json> (html): an earlier run to compare with. */
  compare?: string;
  /** --wide: text tables whole, whatever the terminal's width. */
  wide?: boolean;
}

/**
 * The width text tables fit: the terminal's (stdout's columns), else COLUMNS, else 80; --wide: no limit.
 */
export function textWidth(io: CliIO, wide: boolean | undefined): number {
  if (wide) return Infinity;
  if (io.stdout.isTTY && io.stdout.columns && io.stdout.columns > 0) return io.stdout.columns;
  const columns = Number(io.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

function markdownBudget(maxChars: number | undefined): { budget?: number } {
  return maxChars === undefined ? {} : { budget: maxChars };
}

let depsOverride: EngineDeps | undefined;
/** Tests that drive the CLI in-process can substitute the engine's dependencies. */
export function setEngineDepsForTests(deps: EngineDeps | undefined): void {
  depsOverride = deps;
}
export async function engineDeps(): Promise<EngineDeps> {
  return depsOverride ?? (await defaultDeps());
}

export interface Sinks {
  sinks: EventSink[];
  /** Waits for the progress display to finish drawing: call before writing the report or prompting. */
  settle(): Promise<void>;
  close(): void;
}

/**
 * Progress on stderr whatever the format (stdout is only the report): listr2 when stderr is a terminal,
 * else timestamped lines with heartbeats (src/engine/progress.ts). Plus --log-file.
 */
export function sinksFor(io: CliIO, flags: CommonFlags, { progress }: { progress: boolean }): Sinks {
  const sinks: EventSink[] = [];
  const closers: (() => void)[] = [];
  let display: ProgressDisplay | undefined;
  if (progress) {
    display = progressOnTerminal(io.stderr) ? listrProgress(io.stderr as NodeJS.WriteStream) : lineProgress((line) => io.stderr.write(line));
    sinks.push(display);
    closers.push(() => display!.close());
  }
  if (flags.logFile) {
    const file = resolve(io.cwd, flags.logFile);
    // A path that cannot be a log (a FIFO, a device, a folder, no permission) is an InputError here;
    // a write that fails later (a full disk) makes close() throw it: the run ends with exit 1.
    const log = openEventLog(file);
    sinks.push(log);
    closers.push(() => log.close());
  }
  return { sinks, settle: () => display?.settle() ?? Promise.resolve(), close: () => closers.forEach((c) => c()) };
}

export function renderPlan(plan: PlanDocument, format: string, io: CliIO, maxChars?: number, html: HtmlOptions = {}, wide?: boolean): string {
  if (format === 'json') return renderJson(plan);
  if (format === 'csv') return renderPlanCsv(plan);
  if (format === 'html') return renderPlanHtml(plan, html);
  if (format === 'markdown') return renderPlanMarkdown(plan, markdownBudget(maxChars));
  return renderPlanText(plan, { color: io.color, width: textWidth(io, wide) });
}

export function renderVerify(report: VerifyReport, format: string, io: CliIO, maxChars?: number, html: HtmlOptions = {}, wide?: boolean): string {
  if (format === 'json') return renderVerifyJson(report);
  if (format === 'html') return renderVerifyHtml(report, html);
  if (format === 'junit') return renderVerifyJunit(report);
  if (format === 'csv') return renderVerifyCsv(report);
  if (format === 'markdown') return renderVerifyMarkdown(report, markdownBudget(maxChars));
  return renderVerifyText(report, { color: io.color, width: textWidth(io, wide) });
}

export function renderApply(report: ApplyReport, format: string, io: CliIO, maxChars?: number, html: HtmlOptions = {}, wide?: boolean): string {
  if (format === 'json') return renderApplyJson(report);
  if (format === 'html') return renderApplyHtml(report, html);
  if (format === 'markdown') return renderApplyMarkdown(report, markdownBudget(maxChars));
  return renderApplyText(report, { color: io.color, width: textWidth(io, wide) });
}

/** summary.md of a run directory. */
export function renderSummary(report: ApplyReport): string {
  return renderApplyMarkdown(report, FULL_MARKDOWN);
}

/** A yes/no question on the terminal; absent without one (then only --yes allows writes). */
export function confirmFor(io: CliIO, signal?: AbortSignal, format = 'text'): ((plan: PlanDocument) => Promise<boolean>) | undefined {
  if (!io.interactive) return undefined;
  return async (plan) => {
    // Keys typed before the question (while the plan was read, say) must not answer it.
    await drainTerminalInput(io.stdin);
    // The text rendering shortens long lists, and --format json shows no plan at all (markdown lists everything).
    if ((format === 'text' && planTextIsCut(plan)) || format === 'json') io.stderr.write(`${seeAllHint(plan, format === 'json' ? 'No plan is shown with --format json.' : 'The plan above is shortened.')}\n`);
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    // Ctrl-C at the prompt means no (readline swallows the signal while it owns the terminal);
    // SIGTERM or SIGHUP (the run's stop signal) ends the question too.
    const cancelled = new AbortController();
    rl.on('SIGINT', () => cancelled.abort());
    const onStop = () => cancelled.abort();
    signal?.addEventListener('abort', onStop, { once: true });
    try {
      const answer = await rl.question(confirmationQuestion(plan), { signal: cancelled.signal });
      return /^y(es)?$/i.test(answer.trim());
    } catch (error) {
      if (cancelled.signal.aborted) return false;
      throw error;
    } finally {
      signal?.removeEventListener('abort', onStop);
      rl.close();
    }
  };
}

/** Where to read the whole plan when the text above the question was shortened. */
function seeAllHint(plan: PlanDocument, why: string): string {
  const target = plan.tenant.target === 'exchange' ? '--target exchange' : `--target ${quoteArg(plan.tenant.target)}`;
  return `${why} To see all of it before answering, run in another terminal: exo-playbook plan ${quoteArg(plan.playbook.file)} ${target} --format markdown (or --format json, or --out plan.json)`;
}

function quoteArg(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Discards what is already waiting on a terminal's input (type-ahead). Raw mode for the moment, so a
 * half-typed line is discarded too; what arrives after the question is written is the answer.
 * Not a terminal (a test's stream): nothing to discard.
 */
async function drainTerminalInput(stdin: CliIO['stdin']): Promise<void> {
  const tty = stdin as NodeJS.ReadStream;
  if (!tty.isTTY || typeof tty.setRawMode !== 'function') return;
  const wasRaw = tty.isRaw;
  tty.setRawMode(true);
  const discard = () => undefined;
  tty.on('data', discard);
  tty.resume();
  // The kernel hands over everything already typed on the first read; a short pause lets it arrive.
  await new Promise((resolve) => setTimeout(resolve, 150));
  tty.off('data', discard);
  tty.pause();
  // Anything the stream buffered internally is type-ahead too.
  while (tty.read() !== null) {
    /* discard */
  }
  tty.setRawMode(wasRaw);
}

/** The signals a write run handles like Ctrl-C: SIGTERM is what systemd sends on stop or timeout, SIGHUP a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export type RunPhase = 'reading' | 'writing' | 'verifying';

/** Write runs (apply, rollback) that handle a stop themselves; while one runs, the handler below stands aside. */
let writeRunsHandlingStops = 0;
let commandStopHandler: ((name: NodeJS.Signals) => void) | undefined;

/**
 * One rule for every command (README "Exit codes"): Ctrl-C, SIGTERM or SIGHUP ends it with exit 4,
 * like a refusal. Write runs (apply, rollback) stop cleanly themselves (interruptOnSigint: the write in
 * flight finishes, the journal is closed); every other command writes nothing to the tenant, so it
 * stops at once (a PowerShell host it started ends when its stdin closes). Returns the remover.
 */
export function stopCommandsOnSignal(stderr: NodeJS.WritableStream, exit: (code: number) => void): () => void {
  const handler = (name: NodeJS.Signals) => {
    if (writeRunsHandlingStops > 0) return;
    const what = name === 'SIGINT' ? 'interrupt' : `${name} received`;
    stderr.write(`\n${what}: stopped; nothing was written to the tenant (exit ${ExitCode.refused})\n`);
    exit(ExitCode.refused);
  };
  const remove = () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
    if (commandStopHandler === handler) commandStopHandler = undefined;
  };
  commandStopHandler = handler;
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return remove;
}

export interface Interrupt {
  signal: AbortSignal;
  /** The engine says what it is doing, so the message on a stop tells the truth. */
  onPhase(phase: RunPhase): void;
  dispose(): void;
}

/**
 * Ctrl-C (or SIGTERM, SIGHUP) during a write run: while reading, the run stops at once with nothing
 * written; while writing, the writes in flight finish (the journal stays consistent) and no new one
 * starts. Either way the journal gets its end record, the lock is released and the exit code is 4.
 * A second signal ends the process at once.
 */
export function interruptOnSigint(io: CliIO): Interrupt {
  const controller = new AbortController();
  let phase: RunPhase = 'reading';
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      // The second signal kills: no handler of ours may catch it.
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      const command = commandStopHandler;
      if (command) for (const s of STOP_SIGNALS) process.off(s, command);
      process.kill(process.pid, name);
      return;
    }
    const what = name === 'SIGINT' ? 'interrupt' : `${name} received`;
    const again = name === 'SIGINT' ? 'Ctrl-C again to kill' : `${name} again to kill`;
    const message =
      phase === 'writing'
        ? `finishing the write in flight, then stopping; the changes not started are skipped (${again})`
        : phase === 'verifying'
          ? `every write has finished; stopping the verify (${again})`
          : `stopping; nothing has been written (${again})`;
    io.stderr.write(`\n${what}: ${message}\n`);
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  writeRunsHandlingStops += 1;
  let disposed = false;
  return {
    signal: controller.signal,
    onPhase: (next) => {
      phase = next;
    },
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
      if (!disposed) writeRunsHandlingStops -= 1;
      disposed = true;
    },
  };
}

/**
 * What apply and rollback share: journaled writes under --runs-dir, the plan shown first, the TTY
 * confirmation (or --yes), progress, Ctrl-C, and the device-code prompt on stderr.
 */
export function writeRunOptions(
  io: CliIO,
  flags: CommonFlags & { runsDir: string; concurrency: number },
  interrupt: Pick<Interrupt, 'signal' | 'onPhase'>,
  settle: () => Promise<void> = async () => {},
) {
  const signal = interrupt.signal;
  const ask = confirmFor(io, signal, flags.format);
  // The progress display finishes drawing before the plan is printed, and the plan before the question
  // is asked or the writes' display starts.
  let shown: Promise<void> = Promise.resolve();
  const confirm = ask ? async (plan: PlanDocument) => (await shown, ask(plan)) : undefined;
  const runner = stepRunnerFor(io.stderr);
  return {
    env: io.env,
    cwd: io.cwd,
    runsDir: resolve(io.cwd, flags.runsDir),
    yes: Boolean(flags.yes),
    ...(confirm ? { confirm } : {}),
    concurrency: flags.concurrency,
    signal,
    onPhase: interrupt.onPhase,
    stepRunner: (async (tasks) => {
      await shown;
      await runner(tasks);
    }) as StepRunner,
    showPlan: (plan: PlanDocument) => {
      if (flags.format === 'json' || flags.format === 'html') return;
      const text = `${renderPlan(plan, flags.format, io, undefined, {}, flags.wide)}\n`;
      shown = settle().then(() => void io.stdout.write(text));
    },
    renderSummary,
    onDeviceCode: (message: string) => io.stderr.write(`${message}\n`),
  };
}

/** --keep-runs: keep the newest runs named `<time>-<runName>`; a failed prune is reported, never a reason to fail the run. */
export async function keepNewestRuns(io: CliIO, runsDir: string, runName: string, report: ApplyReport, keep: number): Promise<void> {
  try {
    await pruneRuns(runsDir, runName, keep, report.runDir);
  } catch (error) {
    io.stderr.write(`warning: --keep-runs: could not delete old run directories: ${(error as Error).message}\n`);
  }
}
