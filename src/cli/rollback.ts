/**
 * `exo-playbook rollback <run-dir>`: restore the before-values a run's journal recorded, newest
 * first, with the same confirmation rules as apply, journaled in a new run directory.
 * Exit codes as for apply; --notify-webhook and --keep-runs as for apply.
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { runRollback } from '../engine/run-rollback.js';
import { notifyAfter, type WebhookFormat } from '../engine/notify.js';
import { mailSpec } from './notify-flags.js';
import { RUN_FILES } from '../engine/rundir.js';
import { readSavedPlan } from '../engine/saved-plan.js';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { applyExitCode } from './apply.js';
import { engineDeps, interruptOnSigint, keepNewestRuns, renderApply, sinksFor, withOptions, writeRunOptions, type CommonFlags } from './engine-support.js';

interface RollbackFlags extends CommonFlags {
  runsDir: string;
  concurrency: number;
  notifyWebhook?: string;
  notifyFormat?: WebhookFormat;
  notifyMail?: string[];
  notifySmtp?: string;
  notifySmtpPassword?: string;
  notifyMailFrom?: string;
  keepRuns?: number;
}

export function registerRollback(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('rollback')
    .argument('<run-dir>', 'a run directory made by apply (holds plan.json and journal.jsonl)')
    .description("restore the before-values the run's journal recorded (the target defaults to the run's own)");
  withOptions(command, ['target', 'format', 'yes', 'runsDir', 'concurrency', 'logFile', 'notifyWebhook', 'notifyFormat', 'notifyMail', 'notifySmtp', 'notifySmtpPassword', 'notifyMailFrom', 'keepRuns', 'wide']).action(
    wrap(async (runDir: string, flags: RollbackFlags, cmd: Command) =>
      notifyAfter({ spec: flags.notifyWebhook, command: 'rollback', playbookFile: runDir, ...recordedPlaybook(resolve(io.cwd, runDir)), env: io.env, warn: (l) => io.stderr.write(l), ...(flags.notifyFormat ? { format: flags.notifyFormat } : {}), ...mailSpec(flags), cwd: io.cwd }, async () => {
      const sinks = sinksFor(io, flags, { progress: true });
      const interrupt = interruptOnSigint(io);
      try {
        const report = await runRollback({
          deps: await engineDeps(),
          runDir: resolve(io.cwd, runDir),
          target: flags.target,
          targetGiven: cmd.getOptionValueSource('target') !== 'default',
          sinks: sinks.sinks,
          ...writeRunOptions(io, flags, interrupt, sinks.settle),
        });
        await sinks.settle();
        io.stdout.write(renderApply(report, flags.format, io, undefined, {}, flags.wide));
        if (flags.keepRuns) await keepNewestRuns(io, resolve(io.cwd, flags.runsDir), `${report.plan.playbook.name}-rollback`, report, flags.keepRuns);
        return { exitCode: applyExitCode(report), outcome: { playbook: report.plan.playbook, tenant: report.plan.tenant, apply: report } };
      } finally {
        interrupt.dispose();
        await sinks.settle();
        sinks.close();
      }
    })),
  );
}

/** The playbook the run recorded, so a refused or failed rollback's message names it; nothing if unreadable. */
function recordedPlaybook(runDir: string): { playbook?: { name: string; file: string; change?: string } } {
  try {
    const { name, file, change } = readSavedPlan(join(runDir, RUN_FILES.plan), 'rollback <run-dir>').playbook;
    return { playbook: { name, file, ...(change ? { change } : {}) } };
  } catch {
    return {};
  }
}

