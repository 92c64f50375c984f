import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `plan` lands; replaced wholesale by that work.
export function registerPlan(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('plan')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('plan is not built yet');
      }),
    );
}
