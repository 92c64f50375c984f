/**
 * vitest setupFiles: runs in the worker before each test file, inside the run's folder
 * (test/global-setup.ts; nothing happens when vitest runs without it).
 *
 * - A temp folder of the file's own (TMPDIR, so os.tmpdir() and every process the file starts use
 *   it), removed after the file's last afterAll, whatever its tests did: a folder a test makes with
 *   mkdtemp(tmpdir()) never outlives the file, even when the test fails before its own cleanup.
 * - A lock folder of the file's own (EXO_PLAYBOOK_LOCK_DIR), so two files that lock the same tenant
 *   at once (contoso.onmicrosoft.com in most of them) never meet on one lock; a test that needs a
 *   particular lock folder still passes EXO_PLAYBOOK_LOCK_DIR itself.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const run = process.env.EXO_PLAYBOOK_TEST_RUN;
if (run) {
  mkdirSync(join(run, 'locks'), { recursive: true });
  // Short: paths under it end up on screens (tmux tests) and in Unix socket names (108 bytes at most).
  const tmp = mkdtempSync(join(run, 'f-'));
  process.env.TMPDIR = tmp;
  process.env.EXO_PLAYBOOK_LOCK_DIR = mkdtempSync(join(run, 'locks', 'file-'));
  // Registered first, so it runs after the file's own afterAll hooks (vitest runs after-hooks as a stack).
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
  });
}
