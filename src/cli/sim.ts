import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `sim` lands; replaced wholesale by that work.
export function registerSim(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('sim')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('sim is not built yet');
      }),
    );
}
