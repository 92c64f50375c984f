#!/usr/bin/env zx
// Per-call overhead of the PowerShell bridge: N round trips of a trivial stub cmdlet
// (Get-TransportConfig) through PwshSession, against the same N calls in a plain pwsh loop in one
// process. Needs `npm run build` (imports dist/) and a pwsh (`npm run ensure-pwsh`).
// Also: host start through the .NET tool's launcher (pwsh → dotnet pwsh.dll, two processes) against
// `dotnet pwsh.dll` run directly (what the bridge does), alternated, median of --starts (default 7).
// Usage: npm run bench [-- --calls 500 --rounds 3 --starts 7] ; only the start comparison: --starts-only
import { $, argv, fs, os, path } from 'zx';

$.quiet = true;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const calls = Number(argv.calls ?? 500);
const rounds = Number(argv.rounds ?? 3);
const dist = path.join(root, 'dist', 'exchange', 'pwsh', 'session.js');
if (!(await fs.pathExists(dist))) {
  console.error('bench: dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
const { PwshSession } = await import(dist);
const { findPwsh, resolvePwshCommand } = await import(path.join(root, 'dist', 'exchange', 'find-pwsh.js'));
const { generateTenant } = await import(path.join(root, 'dist', 'exchange', 'simulator', 'generate.js'));
const pwsh = findPwsh()?.path;
if (!pwsh) {
  console.error('bench: no pwsh: run `npm run ensure-pwsh`.');
  process.exit(1);
}

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'exo-bench-'));
const stateFile = path.join(dir, 'state.json');
await fs.writeFile(stateFile, JSON.stringify(generateTenant({ mailboxes: 50, seed: 1 }), null, 2));
const modules = path.join(root, 'test', 'fixtures', 'modules');
const env = { EXO_PLAYBOOK_STUB_STATE: stateFile };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Host start: launcher vs direct (only meaningful when pwsh is the .NET tool launcher).
const direct = resolvePwshCommand(pwsh);
if (direct.toolDll) {
  const startsN = Number(argv.starts ?? 7);
  const viaLauncher = [];
  const viaDirect = [];
  for (let r = 0; r < startsN; r++) {
    for (const [command, out] of [
      [{ command: pwsh, args: [] }, viaLauncher],
      [direct, viaDirect],
    ]) {
      const t0 = performance.now();
      const session = await PwshSession.start({ pwshPath: pwsh, command, modulePaths: [modules], env });
      out.push(performance.now() - t0);
      await session.close();
    }
  }
  console.log(
    `host start (spawn → module imported), median of ${startsN}, load average ${os.loadavg()[0].toFixed(2)}: ` +
      `through the launcher ${median(viaLauncher).toFixed(0)} ms, dotnet pwsh.dll directly ${median(viaDirect).toFixed(0)} ms`,
  );
}
if (argv['starts-only']) {
  await fs.remove(dir);
  process.exit(0);
}

const bridge = [];
const starts = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const session = await PwshSession.start({ pwshPath: pwsh, modulePaths: [modules], env });
  starts.push(performance.now() - t0);
  for (let i = 0; i < 20; i++) await session.invoke('Get-TransportConfig'); // warm-up (JIT)
  const t1 = performance.now();
  for (let i = 0; i < calls; i++) await session.invoke('Get-TransportConfig');
  bridge.push((performance.now() - t1) / calls);
  await session.close();
}

const loop = [];
const script = [
  'Import-Module ExchangeOnlineManagement',
  'for ($i = 0; $i -lt 20; $i++) { $null = Get-TransportConfig }',
  '$sw = [Diagnostics.Stopwatch]::StartNew()',
  `for ($i = 0; $i -lt ${calls}; $i++) { $null = Get-TransportConfig }`,
  '$sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)',
].join('; ');
for (let r = 0; r < rounds; r++) {
  const result = await $({
    env: { ...process.env, ...env, PSModulePath: [modules, process.env.PSModulePath].filter(Boolean).join(path.delimiter) },
  })`${pwsh} -NoLogo -NoProfile -NonInteractive -Command ${script}`;
  loop.push(Number(result.stdout.trim().split('\n').pop()) / calls);
}
// Streaming: one bulk read of `mailboxes` objects, through the bridge and in-process.
const mailboxes = Number(argv.mailboxes ?? 3000);
const bigState = path.join(dir, 'big.json');
await fs.writeFile(bigState, JSON.stringify(generateTenant({ mailboxes, seed: 2 }), null, 2));
const bulk = { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] };
const streamed = [];
for (let r = 0; r < rounds; r++) {
  const session = await PwshSession.start({ pwshPath: pwsh, modulePaths: [modules], env: { EXO_PLAYBOOK_STUB_STATE: bigState } });
  await session.invoke('Get-TransportConfig');
  const t0 = performance.now();
  let n = 0;
  for await (const object of session.stream('Get-EXOCASMailbox', bulk)) if (object) n++;
  streamed.push((performance.now() - t0) / n);
  await session.close();
}
const bulkScript = [
  'Import-Module ExchangeOnlineManagement',
  '$null = Get-TransportConfig',
  '$sw = [Diagnostics.Stopwatch]::StartNew()',
  '$n = 0; Get-EXOCASMailbox -ResultSize Unlimited -Properties SmtpClientAuthenticationDisabled | ForEach-Object { $n++ }',
  '($sw.Elapsed.TotalMilliseconds / $n).ToString([cultureinfo]::InvariantCulture)',
].join('; ');
const inProcess = [];
for (let r = 0; r < rounds; r++) {
  const result = await $({
    env: { ...process.env, EXO_PLAYBOOK_STUB_STATE: bigState, PSModulePath: [modules, process.env.PSModulePath].filter(Boolean).join(path.delimiter) },
  })`${pwsh} -NoLogo -NoProfile -NonInteractive -Command ${bulkScript}`;
  inProcess.push(Number(result.stdout.trim().split('\n').pop()));
}
await fs.remove(dir);

const b = median(bridge);
const l = median(loop);
const version = (await $`${pwsh} -Version`.nothrow()).stdout.trim();
console.log(`pwsh: ${pwsh} (${version}); ${os.cpus().length} CPUs; load average ${os.loadavg()[0].toFixed(2)}`);
console.log(`host start (hello → module imported): median ${median(starts).toFixed(0)} ms over ${rounds}`);
console.log(`bridge (PwshSession.invoke round trip): ${b.toFixed(3)} ms/call (median of ${rounds} × ${calls} calls)`);
console.log(`plain pwsh loop (same cmdlet, in-process): ${l.toFixed(3)} ms/call`);
console.log(`bridge overhead: ${(b - l).toFixed(3)} ms/call; ratio ${(b / l).toFixed(2)}×`);
const s = median(streamed);
const p = median(inProcess);
console.log(`bulk read of ${mailboxes} mailboxes: bridge ${s.toFixed(3)} ms/object, in-process ${p.toFixed(3)} ms/object (ratio ${(s / p).toFixed(2)}×)`);
