/**
 * `exo-playbook diff <old> <new>` and `exo-playbook diff --git <rev>[..<rev>] [paths...]`.
 * Exit 0 when nothing meaningful changed, 2 when something did, 1 on bad input.
 */
import type { Command } from 'commander';
import { ExitCode, InputError } from '../errors.js';
import type { CliIO } from './io.js';
import { OPTION_TABLE } from './options.js';
import type { Wrap } from './program.js';

interface DiffOptions {
  git?: string;
  format: 'text' | 'markdown' | 'json';
  maxChars?: number;
}

export function registerDiff(program: Command, io: CliIO, wrap: Wrap): void {
  program
    .command('diff')
    .description('what a playbook change means: steps, settings, allowlist entries (exit 2 when something changed)')
    .argument('[files...]', '<old> <new> playbook files, or with --git: paths to limit the search to')
    .option('--git <range>', 'compare playbooks across git revisions: <rev> (against the working tree), <rev>..<rev>, or <base>...<head>')
    .addOption(OPTION_TABLE.format(['text', 'markdown', 'json']))
    .addOption(OPTION_TABLE.maxChars())
    .addHelpText(
      'after',
      `
Comments, key order, quoting and spelling out a default are not changes. Tenant, sign-in and
acceptBreakage changes are marked sensitive. No secret or environment variable is needed or read.
In CI: exo-playbook diff --git origin/main...HEAD playbooks/ --format markdown`,
    )
    .action(
      wrap(async (files: string[], options: DiffOptions) => {
        let report;
        if (options.git !== undefined) {
          const { diffGit } = await import('../diff/run.js');
          report = await diffGit(options.git, files, io.cwd);
        } else {
          if (files.length !== 2) throw new InputError(`diff needs two playbook files (got ${files.length})`, undefined, 'exo-playbook diff <old> <new>, or exo-playbook diff --git <rev>[..<rev>] [paths]');
          const { diffFiles } = await import('../diff/run.js');
          report = await diffFiles(files[0]!, files[1]!);
        }
        const out =
          options.format === 'json'
            ? (await import('../report/json.js')).renderDiffJson(report)
            : options.format === 'markdown'
              ? (await import('../report/markdown.js')).renderDiffMarkdown(report, options.maxChars === undefined ? {} : { budget: options.maxChars })
              : (await import('../diff/render-text.js')).renderDiffText(report);
        io.stdout.write(out);
        return report.changed ? ExitCode.changesOrDrift : ExitCode.ok;
      }),
    );
}
