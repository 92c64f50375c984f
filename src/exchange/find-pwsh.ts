/**
 * Where is PowerShell, and how is it started? One lookup shared by the runtime, the tests and
 * scripts/ensure-pwsh.mjs (which mirrors it in plain JS): $EXO_PLAYBOOK_PWSH, then the project's own
 * pinned install in .tools/pwsh/pwsh (the `PowerShell` .NET tool at package.json config.pwshVersion),
 * then `pwsh` on PATH.
 *
 * The .NET tool's `pwsh` is a launcher: it starts `dotnet …/pwsh.dll` as a child process, and a
 * killed launcher leaves that child running. resolvePwshCommand() finds the pwsh.dll behind such a
 * launcher so the bridge runs `dotnet pwsh.dll` itself: one process, which a kill really ends.
 */
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { packageRoot } from '../package-root.js';

export interface FoundPwsh {
  path: string;
  source: 'env' | 'path' | 'tools';
  /** What ensure-pwsh recorded in .tools/pwsh/VERSION, when the install is ours. */
  description?: string;
}

/** The repository (or installed package) root. */
export const projectRoot = packageRoot;

export const toolsPwshDir = join(projectRoot, '.tools', 'pwsh');

/** The one PowerShell version the project installs and tests with (package.json config.pwshVersion). */
export function pinnedPwshVersion(): string {
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { config?: { pwshVersion?: string } };
  const version = pkg.config?.pwshVersion;
  if (!version) throw new Error('package.json has no config.pwshVersion');
  return version;
}

/** "7.6" for "7.6.9": tests and CI accept any PowerShell of that minor version, nothing else. */
export function requiredPwshSeries(): string {
  return pinnedPwshVersion().split('.').slice(0, 2).join('.');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
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
  const fromPath = onPath('pwsh', env);
  if (fromPath) return { path: fromPath, source: 'path' };
  return undefined;
}

/** The command that really runs PowerShell: `dotnet <pwsh.dll>` behind a .NET tool launcher, else pwsh itself. */
export interface PwshCommand {
  command: string;
  /** Arguments before pwsh's own (the pwsh.dll path when run through dotnet). */
  args: string[];
  /** The pwsh.dll found behind a .NET tool launcher, when there was one. */
  toolDll?: string;
}

const resolved = new Map<string, PwshCommand>();

/**
 * The .NET tool launcher is an apphost bound to `.store/powershell/<v>/powershell/<v>/tools/<tfm>/any/
 * Microsoft.PowerShell.GlobalTool.Shim.dll` (the path is in the binary); that shim runs
 * `dotnet <same dir>/unix/pwsh.dll` (win/ on Windows). Anything else (a pwsh from a package, a script)
 * is run as it is.
 */
export function resolvePwshCommand(pwshPath: string, env: NodeJS.ProcessEnv = process.env): PwshCommand {
  const cached = resolved.get(pwshPath);
  if (cached) return cached;
  const command = launcherTarget(pwshPath, env) ?? { command: pwshPath, args: [] };
  resolved.set(pwshPath, command);
  return command;
}

function launcherTarget(pwshPath: string, env: NodeJS.ProcessEnv): PwshCommand | undefined {
  let real: string;
  let bytes: Buffer;
  try {
    real = realpathSync(pwshPath);
    // An apphost is small (~80 KB); pwsh from a package is larger and never a shim.
    if (statSync(real).size > 4 * 1024 * 1024) return undefined;
    bytes = readFileSync(real);
  } catch {
    return undefined;
  }
  const match = /\.store\/[\x21-\x7e]+?\/Microsoft\.PowerShell\.GlobalTool\.Shim\.dll/.exec(bytes.toString('latin1'));
  if (!match) return undefined;
  const shim = join(dirname(real), match[0]);
  const dll = join(dirname(shim), process.platform === 'win32' ? 'win' : 'unix', 'pwsh.dll');
  const dotnet = findDotnet(env);
  try {
    accessSync(dll, constants.R_OK);
  } catch {
    return undefined;
  }
  return dotnet ? { command: dotnet, args: [dll], toolDll: dll } : undefined;
}

/** The dotnet host the launcher would use: $DOTNET_ROOT/dotnet, else dotnet on PATH. */
function findDotnet(env: NodeJS.ProcessEnv): string | undefined {
  const exe = process.platform === 'win32' ? 'dotnet.exe' : 'dotnet';
  const root = env.DOTNET_ROOT;
  if (root && isExecutable(join(root, exe))) return join(root, exe);
  return onPath('dotnet', env);
}

/** The path of host.ps1 next to this module's source (src/ or dist/ both resolve to src/exchange/pwsh). */
export const hostScriptPath = join(projectRoot, 'src', 'exchange', 'pwsh', 'host.ps1');
