import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `apply` lands; replaced wholesale by that work.
export function registerApply(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('apply')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('apply is not built yet');
      }),
    );
}
