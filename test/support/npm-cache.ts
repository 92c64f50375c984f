/**
 * An npm cache of a test's own with what the user's npm cache holds, for a test that installs
 * packages (test/e2e/install.test.ts) without the network and without writing to the user's cache:
 * the index is copied, the content hard-linked (cacache never rewrites a content file; copied when
 * hard links are not possible). The user's cache is named by test/global-setup.ts
 * (EXO_PLAYBOOK_TEST_USER_NPM_CACHE); without it, the cache is empty.
 */
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function seededNpmCache(target: string): string {
  const source = join(process.env.EXO_PLAYBOOK_TEST_USER_NPM_CACHE || join(homedir(), '.npm'), '_cacache');
  mkdirSync(target, { recursive: true });
  if (!existsSync(source)) return target;
  const into = join(target, '_cacache');
  if (existsSync(join(source, 'index-v5'))) cpSync(join(source, 'index-v5'), join(into, 'index-v5'), { recursive: true });
  const link = (dir: string) => {
    mkdirSync(join(into, dir), { recursive: true });
    for (const entry of readdirSync(join(source, dir), { withFileTypes: true })) {
      const rel = join(dir, entry.name);
      if (entry.isDirectory()) link(rel);
      else if (entry.isFile()) {
        try {
          linkSync(join(source, rel), join(into, rel));
        } catch {
          cpSync(join(source, rel), join(into, rel));
        }
      }
    }
  };
  if (existsSync(join(source, 'content-v2'))) link('content-v2');
  return target;
}
