/**
 * What plan, apply, verify and rollback share at the CLI edge: event sinks (line-per-event progress,
 * --log-file), output by --format, the TTY confirmation, and Ctrl-C handling.
 */
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultDeps, type EngineDeps } from '../engine/deps.js';
import { openEventLog } from '../engine/event-log.js';
import { lineSink } from '../engine/events.js';
import type { ApplyReport, EventSink, PlanDocument, VerifyReport } from '../engine/types.js';
import { renderJson } from '../report/json.js';
import { renderApplyText, renderPlanText, renderVerifyText } from '../report/text.js';
import { renderVerifyJunit } from '../report/junit.js';
import { renderPlanCsv, renderVerifyCsv } from '../report/dossier-csv.js';
import { renderApplyMarkdown, renderPlanMarkdown, renderVerifyMarkdown } from '../report/markdown.js';
import type { CliIO } from './io.js';
import { OPTION_TABLE, type OptionName } from './options.js';
import { stepRunnerFor } from '../engine/progress.js';
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
  close(): void;
}

/**
 * Line-per-event progress on stderr when there is no TTY and the output is text; on a TTY listr2
 * shows progress instead, and json/junit/markdown keep stderr quiet except for errors.
 */
export function sinksFor(io: CliIO, flags: CommonFlags, { progress }: { progress: boolean }): Sinks {
  const sinks: EventSink[] = [];
  const closers: (() => void)[] = [];
  if (progress && !io.interactive && flags.format === 'text') sinks.push(lineSink((line) => io.stderr.write(line)));
  if (flags.logFile) {
    const log = openEventLog(resolve(io.cwd, flags.logFile));
    sinks.push(log);
    closers.push(() => log.close());
  }
  return { sinks, close: () => closers.forEach((c) => c()) };
}

export function renderPlan(plan: PlanDocument, format: string, io: CliIO): string {
  if (format === 'json') return renderJson(plan);
  if (format === 'csv') return renderPlanCsv(plan);
  if (format === 'markdown') return renderPlanMarkdown(plan);
  return renderPlanText(plan, { color: io.color });
}

export function renderVerify(report: VerifyReport, format: string, io: CliIO): string {
  if (format === 'json') return renderJson(report);
  if (format === 'junit') return renderVerifyJunit(report);
  if (format === 'csv') return renderVerifyCsv(report);
  if (format === 'markdown') return renderVerifyMarkdown(report);
  return renderVerifyText(report, { color: io.color });
}

export function renderApply(report: ApplyReport, format: string, io: CliIO): string {
  if (format === 'json') return renderJson(report);
  if (format === 'markdown') return renderApplyMarkdown(report);
  return renderApplyText(report, { color: io.color });
}

/** summary.md of a run directory. */
export function renderSummary(report: ApplyReport): string {
  return renderApplyMarkdown(report);
}

/** A yes/no question on the terminal; absent without one (then only --yes allows writes). */
export function confirmFor(io: CliIO): ((plan: PlanDocument) => Promise<boolean>) | undefined {
  if (!io.interactive) return undefined;
  return async (plan) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    // Ctrl-C at the prompt means no (readline swallows the signal while it owns the terminal).
    const cancelled = new AbortController();
    rl.on('SIGINT', () => cancelled.abort());
    try {
      const verb = plan.kind === 'rollback' ? 'Roll back' : 'Apply';
      const answer = await rl.question(`${verb} ${plan.summary.changes} change${plan.summary.changes === 1 ? '' : 's'} to ${plan.tenant.organization}? [y/N] `, {
        signal: cancelled.signal,
      });
      return /^y(es)?$/i.test(answer.trim());
    } catch (error) {
      if (cancelled.signal.aborted) return false;
      throw error;
    } finally {
      rl.close();
    }
  };
}

/**
 * Ctrl-C during a write run: the first SIGINT asks the engine to stop after the writes in flight
 * (the journal stays consistent); a second one ends the process at once.
 */
export function interruptOnSigint(io: CliIO): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      process.off('SIGINT', onSigint);
      process.kill(process.pid, 'SIGINT');
      return;
    }
    io.stderr.write('\ninterrupt: finishing the write in flight, then stopping (Ctrl-C again to kill)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}

/**
 * What apply and rollback share: journaled writes under --runs-dir, the plan shown first, the TTY
 * confirmation (or --yes), progress, Ctrl-C, and the device-code prompt on stderr.
 */
export function writeRunOptions(io: CliIO, flags: CommonFlags & { runsDir: string; concurrency: number }, signal: AbortSignal) {
  const confirm = confirmFor(io);
  return {
    env: io.env,
    cwd: io.cwd,
    runsDir: resolve(io.cwd, flags.runsDir),
    yes: Boolean(flags.yes),
    ...(confirm ? { confirm } : {}),
    concurrency: flags.concurrency,
    signal,
    stepRunner: stepRunnerFor(io.interactive, flags.format),
    showPlan: (plan: PlanDocument) => {
      if (flags.format !== 'json') io.stdout.write(`${renderPlan(plan, flags.format, io)}\n`);
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
