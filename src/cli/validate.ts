import type { Command } from 'commander';
import type { CliIO } from './io.js';
import type { Wrap } from './program.js';
import { SessionError } from '../errors.js';

// Placeholder until the issue that owns `validate` lands; replaced wholesale by that work.
export function registerValidate(program: Command, _io: CliIO, wrap: Wrap): void {
  program
    .command('validate')
    .description('(not built yet)')
    .action(
      wrap(async () => {
        throw new SessionError('validate is not built yet');
      }),
    );
}
