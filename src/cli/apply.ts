/**
 * `exo-playbook apply <playbook> [--plan plan.json] [--yes]`: write the plan's changes, journaled,
 * then verify. Exit 0 all applied and compliant; 2 all applied but verify still finds drift; 3 some
 * changes failed; 4 refused (lock, stale plan, blocking risks, no confirmation, interrupted).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, RefusedError } from '../errors.js';
import { runApply } from '../engine/run-apply.js';
import { notifyAfter, type WebhookFormat } from '../engine/notify.js';
import { mailSpec } from './notify-flags.js';
import type { ApplyReport } from '../engine/types.js';
import type { CliIO } from './io.js';
import { loadCompare } from './compare.js';
import type { Wrap } from './program.js';
import { engineDeps, interruptOnSigint, keepNewestRuns, renderApply, sinksFor, withOptions, writeRunOptions, type CommonFlags } from './engine-support.js';

interface ApplyFlags extends CommonFlags {
  plan?: string;
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

export function registerApply(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('apply')
    .argument('<playbook>', 'the playbook YAML file')
    .description('write the changes the plan shows (after confirmation or --yes), journaled, then verify');
  withOptions(command, ['target', 'format', 'plan', 'yes', 'acceptBreakage', 'acceptNoUsageEvidence', 'runsDir', 'concurrency', 'logFile', 'notifyWebhook', 'notifyFormat', 'notifyMail', 'notifySmtp', 'notifySmtpPassword', 'notifyMailFrom', 'keepRuns', 'maxChars', 'compare', 'wide'], ['text', 'markdown', 'json', 'html']).action(
    wrap(async (file: string, flags: ApplyFlags) =>
      notifyAfter({ spec: flags.notifyWebhook, command: 'apply', playbookFile: file, env: io.env, warn: (l) => io.stderr.write(l), ...(flags.notifyFormat ? { format: flags.notifyFormat } : {}), ...mailSpec(flags), cwd: io.cwd }, async () => {
      const html = loadCompare(io.cwd, flags.compare, flags.format);
      const sinks = sinksFor(io, flags, { progress: true });
      const interrupt = interruptOnSigint(io);
      try {
        const report = await runApply({
          deps: await engineDeps(),
          playbookFile: resolve(io.cwd, file),
          ...(flags.plan ? { planFile: resolve(io.cwd, flags.plan) } : {}),
          target: flags.target,
          sinks: sinks.sinks,
          acceptBreakage: flags.acceptBreakage ?? [],
          acceptNoUsageEvidence: flags.acceptNoUsageEvidence === true,
          ...writeRunOptions(io, flags, interrupt, sinks.settle),
        });
        await sinks.settle();
        io.stdout.write(renderApply(report, flags.format, io, flags.maxChars, html, flags.wide));
        if (flags.keepRuns) await keepNewestRuns(io, resolve(io.cwd, flags.runsDir), report.plan.playbook.name, report, flags.keepRuns);
        return { exitCode: applyExitCode(report), outcome: { playbook: report.plan.playbook, tenant: report.plan.tenant, apply: report } };
      } finally {
        interrupt.dispose();
        await sinks.settle();
        sinks.close();
      }
    })),
  );
}

/** Shared with rollback: the exit code an apply-like report means. */
export function applyExitCode(report: ApplyReport): number {
  if (report.interrupted) {
    const { applied, failed, skipped } = report.summary;
    throw new RefusedError(
      `interrupted: ${applied} change(s) applied${failed ? `, ${failed} failed` : ''} before the stop, ${skipped} skipped (not started)`,
      'interrupted',
      [
        report.plan.kind === 'rollback'
          ? `run the same rollback again to finish; the journal in ${report.runDir} records every write`
          : `run apply again to finish, or rollback ${report.runDir} to undo (\`exo-playbook rollback ${report.runDir}\`)`,
      ],
    );
  }
  if (report.summary.failed > 0) return ExitCode.applyPartiallyFailed;
  if (report.verify && !report.verify.compliant) return ExitCode.changesOrDrift;
  return ExitCode.ok;
}
