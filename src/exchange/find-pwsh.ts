/**
 * Where is PowerShell? One lookup shared by the runtime, the tests and scripts/ensure-pwsh.mjs
 * (which mirrors it in plain JS): $EXO_PLAYBOOK_PWSH, then `pwsh` on PATH, then the project-local
 * install in .tools/pwsh/pwsh (a .NET tool or the engine host built from scripts/pwsh-host).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FoundPwsh {
  path: string;
  source: 'env' | 'path' | 'tools';
  /** What ensure-pwsh recorded in .tools/pwsh/VERSION, when the install is ours. */
  description?: string;
}

/** The repository (or installed package) root: src/exchange → ../.. ; dist/exchange → ../.. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const toolsPwshDir = join(projectRoot, '.tools', 'pwsh');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const names = process.platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const full = join(dir, candidate);
      if (isExecutable(full)) return full;
    }
  }
  return undefined;
}

export function findPwsh(env: NodeJS.ProcessEnv = process.env): FoundPwsh | undefined {
  const fromEnv = env.EXO_PLAYBOOK_PWSH;
  if (fromEnv && isExecutable(fromEnv)) return { path: fromEnv, source: 'env' };
  const fromPath = onPath('pwsh', env);
  if (fromPath) return { path: fromPath, source: 'path' };
  const local = join(toolsPwshDir, process.platform === 'win32' ? 'pwsh.exe' : 'pwsh');
  if (isExecutable(local)) {
    let description: string | undefined;
    try {
      description = readFileSync(join(toolsPwshDir, 'VERSION'), 'utf8').trim() || undefined;
    } catch {
      description = undefined;
    }
    return description ? { path: local, source: 'tools', description } : { path: local, source: 'tools' };
  }
  return undefined;
}

/** The path of host.ps1 next to this module's source (src/ or dist/ both resolve to src/exchange/pwsh). */
export const hostScriptPath = join(projectRoot, 'src', 'exchange', 'pwsh', 'host.ps1');
