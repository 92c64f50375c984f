#!/usr/bin/env zx
// Make sure the PowerShell the bridge and its tests run is the pinned one (`npm test` runs this first).
// The pin: package.json "config": { "pwshVersion": ... }, one exact version of the `PowerShell` .NET
// tool. Tests and CI accept that minor version (7.6.x) and nothing else.
// Lookup (same as src/exchange/find-pwsh.ts): $EXO_PLAYBOOK_PWSH, .tools/pwsh/pwsh, `pwsh` on PATH.
//  - $EXO_PLAYBOOK_PWSH set: it must be PowerShell 7.6.x, else this fails (exit 1).
//  - .tools/pwsh/VERSION records the pinned version: nothing to do (nothing is started).
//  - otherwise, with `dotnet`: `dotnet tool install PowerShell --version <pin> --tool-path .tools/pwsh`.
//  - no dotnet: a `pwsh` on PATH is used when it is 7.6.x; else fail under CI=true (warn elsewhere).
import { $, fs, path, which } from 'zx';

$.quiet = true;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const pinned = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')).config?.pwshVersion;
if (!/^\d+\.\d+\.\d+$/.test(pinned ?? '')) {
  console.error('ensure-pwsh: package.json needs "config": { "pwshVersion": "<major.minor.patch>" }.');
  process.exit(1);
}
const series = pinned.split('.').slice(0, 2).join('.');
const toolDir = path.join(root, '.tools', 'pwsh');
const toolPwsh = path.join(toolDir, process.platform === 'win32' ? 'pwsh.exe' : 'pwsh');
const versionFile = path.join(toolDir, 'VERSION');
const recorded = `PowerShell ${pinned} (dotnet tool)`;

async function isExecutable(p) {
  try {
    await fs.access(p, fs.constants.X_OK);
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** $PSVersionTable.PSVersion of a pwsh, or undefined when it does not run. */
async function versionOf(pwsh) {
  const r = await $`${pwsh} -NoLogo -NoProfile -NonInteractive -Command ${'$PSVersionTable.PSVersion.ToString()'}`.nothrow();
  const text = r.stdout.trim().split('\n').pop()?.trim() ?? '';
  return r.exitCode === 0 && /^\d+\.\d+/.test(text) ? text : undefined;
}

const inSeries = (version) => version === series || version.startsWith(`${series}.`);

function refuse(pwsh, from, version) {
  console.error(
    `ensure-pwsh: ${pwsh} (${from}) is ${version === undefined ? 'not a working PowerShell' : `PowerShell ${version}`}; ` +
      `exo-playbook is tested with PowerShell ${series}.x only (pinned: ${pinned}). ` +
      `Point EXO_PLAYBOOK_PWSH at a PowerShell ${series}, or unset it so that \`npm run ensure-pwsh\` installs ${pinned} into .tools/pwsh.`,
  );
  process.exit(1);
}

function fail(why) {
  const message = `ensure-pwsh: ${why} Install the .NET SDK (then this installs PowerShell ${pinned}), install PowerShell ${series} (https://aka.ms/powershell), or set EXO_PLAYBOOK_PWSH.`;
  if (process.env.CI === 'true') {
    console.error(message);
    process.exit(1);
  }
  console.warn(`${message}\nensure-pwsh: tests that need pwsh will be skipped (outside CI).`);
  process.exit(0);
}

// 1. An explicit choice is checked, never replaced.
const fromEnv = process.env.EXO_PLAYBOOK_PWSH;
if (fromEnv) {
  if (!(await isExecutable(fromEnv))) refuse(fromEnv, '$EXO_PLAYBOOK_PWSH', undefined);
  const version = await versionOf(fromEnv);
  if (version === undefined || !inSeries(version)) refuse(fromEnv, '$EXO_PLAYBOOK_PWSH', version);
  console.log(`ensure-pwsh: ${fromEnv} ($EXO_PLAYBOOK_PWSH): PowerShell ${version}`);
  process.exit(0);
}

// 2. Our own install, recorded at the pinned version: done, without starting anything.
if ((await isExecutable(toolPwsh)) && (await fs.pathExists(versionFile)) && (await fs.readFile(versionFile, 'utf8')).trim() === recorded) {
  console.log(`ensure-pwsh: ${toolPwsh} (.tools/pwsh): ${recorded}`);
  process.exit(0);
}

// 3. Install the pin (replacing any other version, or an engine host left by an older checkout).
const dotnet = await which('dotnet', { nothrow: true });
if (dotnet) {
  await fs.remove(toolDir);
  await fs.ensureDir(toolDir);
  console.log(`ensure-pwsh: dotnet tool install PowerShell --version ${pinned} --tool-path .tools/pwsh`);
  const r = await $`${dotnet} tool install PowerShell --version ${pinned} --tool-path ${toolDir}`.nothrow();
  if (r.exitCode !== 0 || !(await isExecutable(toolPwsh))) {
    fail(`\`dotnet tool install PowerShell --version ${pinned}\` failed: ${(r.stderr || r.stdout).trim().split('\n')[0]}.`);
  }
  const version = await versionOf(toolPwsh);
  if (version !== pinned) fail(`the installed tool reports PowerShell ${version ?? '(does not run)'}, not ${pinned}.`);
  await fs.writeFile(versionFile, `${recorded}\n`);
  console.log(`ensure-pwsh: installed ${toolPwsh}: ${recorded}`);
  process.exit(0);
}

// 4. No dotnet: an install in .tools/pwsh that is not recorded as the pin (the runtime would pick it
// before PATH) or a pwsh on PATH will do if it is of the pinned minor version.
if (await isExecutable(toolPwsh)) {
  const version = await versionOf(toolPwsh);
  if (version !== undefined && inSeries(version)) {
    console.log(`ensure-pwsh: ${toolPwsh} (.tools/pwsh): PowerShell ${version}`);
    process.exit(0);
  }
  fail(`${toolPwsh} is ${version === undefined ? 'not a working PowerShell' : `PowerShell ${version}`}, not ${series}.x, and there is no \`dotnet\` to install ${pinned} with: remove .tools/pwsh.`);
}
const onPath = await which('pwsh', { nothrow: true });
if (onPath) {
  const version = await versionOf(onPath);
  if (version !== undefined && inSeries(version)) {
    console.log(`ensure-pwsh: ${onPath} (PATH): PowerShell ${version}`);
    process.exit(0);
  }
  fail(`\`pwsh\` on PATH (${onPath}) is ${version === undefined ? 'not a working PowerShell' : `PowerShell ${version}`}, not ${series}.x, and there is no \`dotnet\` to install ${pinned} with.`);
}
fail('no pwsh found and no `dotnet` to install one with.');
