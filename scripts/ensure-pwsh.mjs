#!/usr/bin/env zx
// Make sure a PowerShell 7 is available for the bridge and its tests (`npm test` runs this first).
// Lookup (same as src/exchange/find-pwsh.ts): $EXO_PLAYBOOK_PWSH, `pwsh` on PATH, .tools/pwsh/pwsh.
// When none is found and `dotnet` is there: install PowerShell as a .NET tool into .tools/pwsh
// (7.6.x, then 7.5.x rolled forward); if the package feed has neither, build the engine host
// (scripts/pwsh-host: System.Management.Automation 7.6.9 behind a pwsh-compatible command line).
// docs/PWSH-BRIDGE.md explains the engine host and what it lacks.
import { $, fs, path, which } from 'zx';

$.quiet = true;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const toolDir = path.join(root, '.tools', 'pwsh');
const toolPwsh = path.join(toolDir, process.platform === 'win32' ? 'pwsh.exe' : 'pwsh');
const versionFile = path.join(toolDir, 'VERSION');
const hostProject = path.join(root, 'scripts', 'pwsh-host');

async function isExecutable(p) {
  try {
    await fs.access(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function versionOf(pwsh) {
  const r = await $`${pwsh} -NoLogo -NoProfile -NonInteractive -Command ${'$PSVersionTable.PSVersion.ToString()'}`.nothrow();
  return r.exitCode === 0 ? r.stdout.trim() : `unknown (exit ${r.exitCode})`;
}

async function found() {
  const fromEnv = process.env.EXO_PLAYBOOK_PWSH;
  if (fromEnv && (await isExecutable(fromEnv))) return { path: fromEnv, source: '$EXO_PLAYBOOK_PWSH' };
  const onPath = await which('pwsh', { nothrow: true });
  if (onPath) return { path: onPath, source: 'PATH' };
  if (await isExecutable(toolPwsh)) return { path: toolPwsh, source: '.tools/pwsh' };
  return undefined;
}

/** The engine host is ours: rebuild it when its sources are newer than the build. */
async function engineHostIsStale() {
  if (!(await fs.pathExists(versionFile))) return false;
  if (!(await fs.readFile(versionFile, 'utf8')).includes('engine')) return false;
  const built = (await fs.stat(toolPwsh)).mtimeMs;
  for (const name of ['Program.cs', 'pwsh-host.csproj']) {
    if ((await fs.stat(path.join(hostProject, name))).mtimeMs > built) return true;
  }
  return false;
}

const existing = await found();
if (existing && !(existing.source === '.tools/pwsh' && (await engineHostIsStale()))) {
  const description =
    existing.source === '.tools/pwsh' && (await fs.pathExists(versionFile))
      ? (await fs.readFile(versionFile, 'utf8')).trim()
      : `PowerShell ${await versionOf(existing.path)}`;
  console.log(`ensure-pwsh: ${existing.path} (${existing.source}): ${description}`);
  process.exit(0);
}

const dotnet = await which('dotnet', { nothrow: true });
if (!dotnet) fail('no pwsh found and no `dotnet` to install one with.');

await fs.ensureDir(toolDir);
for (const [version, env] of [
  ['7.6.*', {}],
  ['7.5.*', { DOTNET_ROLL_FORWARD: 'Major' }],
]) {
  console.log(`ensure-pwsh: trying \`dotnet tool install PowerShell --version ${version}\`...`);
  const r = await $({ env: { ...process.env, ...env } })`${dotnet} tool install PowerShell --version ${version} --tool-path ${toolDir}`.nothrow();
  if (r.exitCode === 0 && (await isExecutable(toolPwsh))) {
    const v = await versionOf(toolPwsh);
    const description = `PowerShell ${v} (dotnet tool)`;
    await fs.writeFile(versionFile, `${description}\n`);
    console.log(`ensure-pwsh: installed ${toolPwsh}: ${description}`);
    process.exit(0);
  }
  console.log(`ensure-pwsh: not available (${(r.stderr || r.stdout).trim().split('\n')[0]})`);
}

console.log('ensure-pwsh: building the PowerShell engine host from scripts/pwsh-host...');
// ReadyToRun (precompiled) halves the host's start time, which every PwshSession pays; it needs the
// crossgen package from the feed, so a plain (JIT) build is the fallback.
const rid = `${process.platform === 'darwin' ? 'osx' : process.platform === 'win32' ? 'win' : 'linux'}-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
let build = await $`${dotnet} publish ${hostProject} -c Release -o ${toolDir} --nologo -r ${rid} --self-contained false -p:PublishReadyToRun=true`.nothrow();
if (build.exitCode !== 0) {
  console.log('ensure-pwsh: ReadyToRun build failed; building without it.');
  build = await $`${dotnet} publish ${hostProject} -c Release -o ${toolDir} --nologo`.nothrow();
}
if (build.exitCode !== 0 || !(await isExecutable(toolPwsh))) {
  console.error(build.stdout, build.stderr);
  fail('could not build the engine host (see the output above).');
}
const v = await versionOf(toolPwsh);
const description = `PowerShell engine ${v} host (System.Management.Automation; no Utility/Management modules)`;
await fs.writeFile(versionFile, `${description}\n`);
console.log(`ensure-pwsh: installed ${toolPwsh}: ${description}`);

function fail(why) {
  const message = `ensure-pwsh: ${why} Install PowerShell 7.6 (https://aka.ms/powershell) or set EXO_PLAYBOOK_PWSH.`;
  if (process.env.CI === 'true') {
    console.error(message);
    process.exit(1);
  }
  console.warn(`${message}\nensure-pwsh: tests that need pwsh will be skipped (outside CI).`);
  process.exit(0);
}
