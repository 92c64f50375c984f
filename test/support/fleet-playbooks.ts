/** Fleet playbooks (they read `${tenant.…}`) load only in a fleet run, with an inventory's tenant. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function isFleetPlaybook(file: string): boolean {
  return readFileSync(path.resolve('playbooks', path.basename(file)), 'utf8').includes('${tenant.');
}
