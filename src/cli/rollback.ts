/**
 * `exo-playbook rollback <run-dir>`: restore the before-values a run's journal recorded, newest
 * first, with the same confirmation rules as apply, journaled in a new run directory.
 * Exit codes as for apply.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runRollback } from '../engine/run-rollback.js';
import { stepRunnerFor } from '../engine/progress.js';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { applyExitCode } from './apply.js';
import { confirmFor, engineDeps, interruptOnSigint, renderApply, renderPlan, renderSummary, sinksFor, withOptions, type CommonFlags } from './engine-support.js';

interface RollbackFlags extends CommonFlags {
  runsDir: string;
  concurrency: number;
}

export function registerRollback(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('rollback')
    .argument('<run-dir>', 'a run directory made by apply (holds plan.json and journal.jsonl)')
    .description("restore the before-values the run's journal recorded (the target defaults to the run's own)");
  withOptions(command, ['target', 'format', 'yes', 'runsDir', 'concurrency', 'logFile']).action(
    wrap(async (runDir: string, flags: RollbackFlags, cmd: Command) => {
      const sinks = sinksFor(io, flags, { progress: true });
      const interrupt = interruptOnSigint(io);
      const confirm = confirmFor(io);
      try {
        const report = await runRollback({
          deps: await engineDeps(),
          runDir: resolve(io.cwd, runDir),
          target: flags.target,
          targetGiven: cmd.getOptionValueSource('target') !== 'default',
          env: io.env,
          cwd: io.cwd,
          sinks: sinks.sinks,
          runsDir: resolve(io.cwd, flags.runsDir),
          yes: Boolean(flags.yes),
          ...(confirm ? { confirm } : {}),
          concurrency: flags.concurrency,
          signal: interrupt.signal,
          stepRunner: stepRunnerFor(io.interactive, flags.format),
          showPlan: (plan) => {
            if (flags.format !== 'json') io.stdout.write(`${renderPlan(plan, flags.format, io)}\n`);
          },
          renderSummary,
          onDeviceCode: (message) => io.stderr.write(`${message}\n`),
        });
        io.stdout.write(renderApply(report, flags.format, io));
        return applyExitCode(report);
      } finally {
        interrupt.dispose();
        sinks.close();
      }
    }),
  );
}
