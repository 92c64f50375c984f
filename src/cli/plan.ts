/**
 * `exo-playbook plan <playbook>`: connect read-only, observe, show what would change and why.
 * Exit 0 nothing to change, 2 changes pending, 1 error.
 */
import { statSync } from 'node:fs';
import { writeOutputFileSync } from '../files/regular-file.js';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, InputError } from '../errors.js';
import { runPlan } from '../engine/run-plan.js';
import { renderJson } from '../report/json.js';
import type { CliIO } from './io.js';
import { loadCompare } from './compare.js';
import type { Wrap } from './program.js';
import { engineDeps, renderPlan, sinksFor, withOptions, type CommonFlags } from './engine-support.js';

interface PlanFlags extends CommonFlags {
  out?: string;
}

export function registerPlan(program: Command, io: CliIO, wrap: Wrap): void {
  const command = program
    .command('plan')
    .argument('<playbook>', 'the playbook YAML file')
    .description('read-only: show every change the playbook would make (target, property, before -> after, reason) and what is already as desired');
  withOptions(command, ['target', 'format', 'out', 'acceptBreakage', 'acceptNoUsageEvidence', 'logFile', 'maxChars', 'workloadIdentity', 'compare', 'wide'], ['text', 'markdown', 'json', 'html', 'csv']).action(
    wrap(async (file: string, flags: PlanFlags) => {
      // Before connecting: a plan that cannot be saved is not worth the reads.
      if (flags.out) assertWritableOut(resolve(io.cwd, flags.out), flags.out);
      const html = loadCompare(io.cwd, flags.compare, flags.format);
      const sinks = sinksFor(io, flags, { progress: true });
      try {
        const plan = await runPlan({
          deps: await engineDeps(),
          playbookFile: resolve(io.cwd, file),
          target: flags.target,
          env: io.env,
          cwd: io.cwd,
          sinks: sinks.sinks,
          acceptBreakage: flags.acceptBreakage ?? [],
          acceptNoUsageEvidence: flags.acceptNoUsageEvidence === true,
          onDeviceCode: (message) => io.stderr.write(`${message}\n`),
          ...(flags.workloadIdentity ? { auth: { method: 'workload-identity' as const, appId: flags.workloadIdentity } } : {}),
        });
        if (flags.out) {
          // A regular file only (not a FIFO or /dev/full); a failed or short write is exit 1.
          writeOutputFileSync(resolve(io.cwd, flags.out), renderJson(plan), { what: 'the plan', option: '--out', hint: OUT_HINT });
        }
        await sinks.settle();
        io.stdout.write(renderPlan(plan, flags.format, io, flags.maxChars, html, flags.wide));
        return plan.summary.changes > 0 ? ExitCode.changesOrDrift : ExitCode.ok;
      } finally {
        await sinks.settle();
        sinks.close();
      }
    }),
  );
}

const OUT_HINT = 'point --out at a file in an existing folder this account can write to';

function assertWritableOut(file: string, given: string): void {
  const folder = dirname(file);
  let isFolder = false;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch {
    // missing: said below
  }
  if (!isFolder) throw new InputError(`--out ${given}: the folder ${folder} does not exist`, undefined, OUT_HINT);
}
