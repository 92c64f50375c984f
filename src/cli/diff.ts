import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `diff` lands; replaced wholesale by that work.
export function registerDiff(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('diff')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('diff is not built yet');
      }),
    );
}
