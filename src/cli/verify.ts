import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `verify` lands; replaced wholesale by that work.
export function registerVerify(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('verify')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('verify is not built yet');
      }),
    );
}
