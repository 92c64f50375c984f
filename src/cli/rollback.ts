import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `rollback` lands; replaced wholesale by that work.
export function registerRollback(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('rollback')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('rollback is not built yet');
      }),
    );
}
