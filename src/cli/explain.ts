import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `explain` lands; replaced wholesale by that work.
export function registerExplain(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('explain')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('explain is not built yet');
      }),
    );
}
