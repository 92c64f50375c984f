/**
 * `exo-playbook explain <playbook> [--target t]`: the exact PowerShell each step runs.
 */
import { MAX_SOURCE_BYTES } from '../playbook/source.js';
import { readRegularFile } from '../files/regular-file.js';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { envPlaceholders } from '../diff/load-side.js';
import { explainGeneral } from '../explain/general.js';
import { explainPlan } from '../explain/targeted.js';
import { explainJson, renderExplainText, type ExplainHeader } from '../explain/render.js';
import type { CliIO } from './io.js';
import { OPTION_TABLE } from './options.js';
import type { Wrap } from './program.js';
import { engineDeps } from './engine-support.js';

/** The loader reports a missing or unreadable file properly; here an empty text just means no placeholders. */
function readText(file: string): Promise<string> {
  return readRegularFile(file, { maxBytes: MAX_SOURCE_BYTES }).then((read) => (read.ok ? read.bytes.toString('utf8') : ''));
}

interface ExplainOptions {
  target?: string;
  format: 'text' | 'json';
}

export function registerExplain(program: Command, io: CliIO, wrap: Wrap): void {
  program
    .command('explain')
    .description('print the exact PowerShell each step runs, one line per cmdlet call')
    .argument('<playbook>', 'playbook file')
    .addOption(OPTION_TABLE.target().default(undefined, 'none: every call each step may make'))
    .addOption(OPTION_TABLE.format(['text', 'json']))
    .addHelpText(
      'after',
      `
Without --target: the reads each step makes and the writes it would make where the tenant differs.
With --target: only the writes the current plan needs (read-only: nothing is changed), exactly as
apply sends them. Values are PowerShell literals (single-quoted, '' doubled).`,
    )
    .action(
      wrap(async (file: string, options: ExplainOptions) => {
        const deps = await engineDeps();
        let header: ExplainHeader;
        let steps;
        if (options.target) {
          const { runPlan } = await import('../engine/run-plan.js');
          // The same plan `plan` makes: on a simulated tenant, unset sign-in variables are only warnings.
          const plan = await runPlan({ deps, target: options.target, env: io.env, cwd: io.cwd, playbookFile: file });
          header = { playbook: plan.playbook.name, change: plan.playbook.change, organization: plan.tenant.organization, target: plan.tenant.target };
          steps = explainPlan(plan);
        } else {
          // No connection, so no secret is needed: unset environment references get placeholders.
          const env = { ...envPlaceholders(await readText(file)).env, ...io.env };
          const source = await deps.loadPlaybook(file, { env, runFiles: 'warn' });
          header = { playbook: source.playbook.name, change: source.playbook.change, organization: source.playbook.tenant.organization };
          steps = await explainGeneral(source.playbook, deps.actions, { baseDir: source.baseDir });
        }
        io.stdout.write(options.format === 'json' ? JSON.stringify(explainJson(header, steps), null, 2) + '\n' : renderExplainText(header, steps));
        return ExitCode.ok;
      }),
    );
}
