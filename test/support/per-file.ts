/**
 * vitest setupFiles: runs in the worker before each test file. Gives the file a lock folder of its
 * own inside the run's folder (test/global-setup.ts), so two files that lock the same tenant at
 * once (contoso.onmicrosoft.com in most of them) never meet on one lock; a test that needs a
 * particular lock folder still passes EXO_PLAYBOOK_LOCK_DIR itself.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

const run = process.env.EXO_PLAYBOOK_TEST_RUN;
if (run) {
  mkdirSync(join(run, 'locks'), { recursive: true });
  process.env.EXO_PLAYBOOK_LOCK_DIR = mkdtempSync(join(run, 'locks', 'file-'));
}
