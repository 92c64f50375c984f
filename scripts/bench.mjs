#!/usr/bin/env zx
// Side by side, in one run (ratios are what count: the machine may be loaded by others):
//  1. per-call overhead of the PowerShell bridge (PwshSession round trip vs a plain pwsh loop);
//  2. per-write cost on the simulated tenant at 1,000 / 10,000 / 100,000 mailboxes (goal: 100k ≤ 3× 1k);
//  3. a bulk read through the bridge vs the same read in a plain pwsh loop, same stub (goal ≤ 1.5×);
//  4. `apply` (+ its verify) vs scripts/bench/hand-written-apply.ps1 (+ one verify read) through
//     pwsh + the stub module (goal ≤ 1.10×);
//  5. `apply --concurrency 3` vs `--concurrency 1` at 300 ms per call, through pwsh + stub and on the
//     simulator (goal ≥ 2.5×).
//  6. the whole `npm test` (wall time; goal: about 3 minutes on a 2-core machine), only in a full run
//     or with --only tests.
// At the end, one table: every figure issue 14 sets a goal for, measured in this run, and whether it met it.
// Both sides run on the same .NET settings: the bridge's hosts get DOTNET_TieredPGO=0 and DOTNET_gcConcurrent=0
// (src/exchange/pwsh/environment.ts), so the plain pwsh loops and the hand-written script get it too
// (--hand-env '' gives them .NET's defaults instead: the script exactly as an admin would run it).
//  0. host start through the .NET tool's launcher (pwsh → dotnet pwsh.dll, two processes) against
//     `dotnet pwsh.dll` run directly (what the bridge does), alternated, median of --starts (default 7);
//     only when pwsh is the .NET tool launcher.
// Benchmarks report; they never fail CI. Needs `npm run build` (imports dist/) and a pwsh.
//  5b. fleets (issue 20): fleet plan --parallel 8 vs 1 on simulated tenants, --parallel 4 vs 1 through
//     pwsh + stub (and the most hosts alive), the CLI's peak RSS for 1,000 tenants, fleet merge of 1,000.
// Usage: npm run bench [-- --quick] [--only starts,per-call,per-write,bulk,memory,apply,concurrency,fleet] [--rounds 1]
//        [--fleet-tenants 200] [--fleet-memory-tenants 1000]
//        [--starts 7] [--starts-only] [--hand-env NAME=VALUE,...] [--strays 150]
//        [--log-dir DIR (keeps the apply and concurrency runs' --log-file)]
import { spawn } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { $, argv, fs, os, path } from 'zx';

$.quiet = true;
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const quick = Boolean(argv.quick);
const only = argv.only ? new Set(String(argv.only).split(',')) : null;
const want = (section) => !only || only.has(section);
/** Figures with a goal, for the closing table: [what, value, goal text, met]. */
const figures = [];
const figure = (what, value, goal, met) => figures.push({ what, value, goal, met });
const rounds = Number(argv.rounds ?? (quick ? 1 : 3));
const sizes = (full, small) => (argv.sizes ? String(argv.sizes).split(',').map(Number) : quick ? small : full);
const cli = path.join(root, 'bin', 'exo-playbook.js');
const dist = (...p) => path.join(root, 'dist', ...p);
if (!(await fs.pathExists(dist('exchange', 'pwsh', 'session.js')))) {
  console.error('bench: dist/ is missing: run `npm run build` first.');
  process.exit(1);
}
const { PwshSession } = await import(dist('exchange', 'pwsh', 'session.js'));
const { SimulatedSession } = await import(dist('exchange', 'simulator', 'session.js'));
const { findPwsh, resolvePwshCommand } = await import(dist('exchange', 'find-pwsh.js'));
const { generateTenant } = await import(dist('exchange', 'simulator', 'generate.js'));
const pwsh = findPwsh()?.path;
if (!pwsh) {
  console.error('bench: no pwsh: run `npm run ensure-pwsh`.');
  process.exit(1);
}
const modules = path.join(root, 'test', 'fixtures', 'modules');
const psModulePath = [modules, process.env.PSModulePath].filter(Boolean).join(path.delimiter);
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'exo-bench-'));
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.bench.c2ln';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const lines = [];
const say = (line) => {
  lines.push(line);
  console.log(line);
};
const version = (await $`${pwsh} -Version`.nothrow()).stdout.trim();
const mem = (os.totalmem() / 2 ** 30).toFixed(1);
say(`machine: ${os.cpus().length} CPUs, ${mem} GiB; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${version}; node ${process.version}${quick ? '; --quick' : ''}`);

let seq = 0;
async function writeTenant(state) {
  const file = path.join(dir, `tenant-${++seq}.json`);
  await fs.writeFile(file, `${JSON.stringify(state, null, 2)}\n`);
  return file;
}
// --hand-env NAME=VALUE[,NAME=VALUE]: the environment of the plain pwsh loops and the hand-written script
// on top of the bench's; default DOTNET_TieredPGO=0,DOTNET_gcConcurrent=0, as the bridge's hosts get (same runtime on both sides).
const handEnv = Object.fromEntries(
  String(argv['hand-env'] ?? `DOTNET_TieredPGO=${process.env.DOTNET_TieredPGO ?? '0'},DOTNET_gcConcurrent=${process.env.DOTNET_gcConcurrent ?? '0'}`)
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const handEnvText = Object.keys(handEnv).length ? Object.entries(handEnv).map(([k, v]) => `${k}=${v}`).join(' ') : '.NET defaults';
function pwshRun(script, env, args = []) {
  return $({ env: { ...process.env, ...handEnv, ...env, PSModulePath: psModulePath } })`${pwsh} -NoLogo -NoProfile -NonInteractive -Command ${script} ${args}`;
}
/** Wall time and exit of a child process (the CLI or a pwsh script). */
function timed(command, args, env) {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out, ms: performance.now() - started }));
  });
}

// --- 0. host start: launcher vs direct ------------------------------------------------------
if (want('starts') || argv['starts-only']) {
  const direct = resolvePwshCommand(pwsh);
  if (direct.toolDll) {
    const env = { EXO_PLAYBOOK_STUB_STATE: await writeTenant(generateTenant({ mailboxes: 50, seed: 1 })) };
    const startsN = Number(argv.starts ?? (quick ? 3 : 7));
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
    say(
      `host start (spawn → module imported), median of ${startsN}, load average ${os.loadavg()[0].toFixed(2)}: ` +
        `through the launcher ${median(viaLauncher).toFixed(0)} ms, dotnet pwsh.dll directly ${median(viaDirect).toFixed(0)} ms`,
    );
  }
  if (argv['starts-only']) {
    await fs.remove(dir);
    process.exit(0);
  }
}

// --- 1. per-call overhead ---------------------------------------------------------------------
if (want('per-call')) {
  const calls = Number(argv.calls ?? (quick ? 100 : 500));
  const env = { EXO_PLAYBOOK_STUB_STATE: await writeTenant(generateTenant({ mailboxes: 50, seed: 1 })) };
  const bridge = [];
  const loop = [];
  for (let r = 0; r < rounds; r++) {
    const session = await PwshSession.start({ pwshPath: pwsh, modulePaths: [modules], env });
    for (let i = 0; i < 20; i++) await session.invoke('Get-TransportConfig'); // warm-up (JIT)
    const t1 = performance.now();
    for (let i = 0; i < calls; i++) await session.invoke('Get-TransportConfig');
    bridge.push((performance.now() - t1) / calls);
    await session.close();
    const script = [
      'Import-Module ExchangeOnlineManagement',
      'for ($i = 0; $i -lt 20; $i++) { $null = Get-TransportConfig }',
      '$sw = [Diagnostics.Stopwatch]::StartNew()',
      `for ($i = 0; $i -lt ${calls}; $i++) { $null = Get-TransportConfig }`,
      '$sw.Elapsed.TotalMilliseconds.ToString([cultureinfo]::InvariantCulture)',
    ].join('; ');
    loop.push(Number((await pwshRun(script, env)).stdout.trim().split('\n').pop()) / calls);
  }
  const b = median(bridge);
  const l = median(loop);
  say(`per call: bridge ${b.toFixed(3)} ms, plain pwsh loop ${l.toFixed(3)} ms (ratio ${(b / l).toFixed(2)}×, ${calls} calls)`);
}

// --- 2. per-write cost on the simulated tenant -------------------------------------------------
if (want('per-write')) {
  const writes = Number(argv.writes ?? 1000);
  const costs = [];
  {
    // JIT warm-up on a small tenant, untimed: the first size measured must not pay for it.
    const warm = await SimulatedSession.open(await writeTenant(generateTenant({ mailboxes: 1000, seed: 4 })));
    for (let i = 0; i < 500; i++) await warm.invoke('Set-CASMailbox', { Identity: warm.state.mailboxes[i % 1000].PrimarySmtpAddress, SmtpClientAuthenticationDisabled: i % 2 === 0 });
    await warm.close();
  }
  for (const n of sizes([1000, 10000, 100000], [1000, 10000, 100000])) {
    const state = generateTenant({ mailboxes: n, seed: 5 });
    const file = await writeTenant(state);
    const targets = state.mailboxes.map((m) => m.PrimarySmtpAddress);
    const session = await SimulatedSession.open(file);
    // Untimed warm-up: the first write builds the identity index (a one-time cost per session, not per write).
    for (let i = 0; i < 10; i++) await session.invoke('Set-CASMailbox', { Identity: targets[i], SmtpClientAuthenticationDisabled: true });
    const t0 = performance.now();
    for (let i = 0; i < writes; i++) {
      const value = i % 2 === 0;
      await session.invoke('Set-CASMailbox', { Identity: targets[(i * 7919) % targets.length], SmtpClientAuthenticationDisabled: value });
    }
    const perWrite = (performance.now() - t0) / writes;
    const t1 = performance.now();
    await session.close();
    costs.push([n, perWrite]);
    say(`per write, simulated tenant of ${n}: ${(perWrite * 1000).toFixed(0)} µs (${writes} writes; close/fold ${(performance.now() - t1).toFixed(0)} ms)`);
  }
  if (costs.length > 1) {
    const [first, last] = [costs[0], costs.at(-1)];
    const ratio = last[1] / first[1];
    say(`per write ${last[0]} / ${first[0]}: ${ratio.toFixed(2)}× (goal ≤ 3×)`);
    figure(`per write on the simulated tenant, ${last[0]} vs ${first[0]} mailboxes`, `${ratio.toFixed(2)}× (${(last[1] * 1000).toFixed(0)} vs ${(first[1] * 1000).toFixed(0)} µs)`, '≤ 3×', ratio <= 3);
  }
}

// --- 3. bulk read: bridge vs plain pwsh --------------------------------------------------------
// Wall time is the goal; CPU seconds of the pwsh process during the read (bridge: the host, from /proc;
// plain: TotalProcessorTime) are printed too, as they move less with the other engineers' load. Peak RSS
// is each pwsh's high-water mark (VmHWM / PeakWorkingSet64, the state load included) and the bench
// process's (the CLI side: PwshSession and its object buffer) sampled during the stream.
/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
async function cpuSeconds(pid) {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}
async function peakRss(pid) {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}
if (want('bulk')) {
  const select = ['PrimarySmtpAddress', 'UserPrincipalName', 'Alias', 'EmailAddresses', 'SmtpClientAuthenticationDisabled'];
  const bulk = { ResultSize: 'Unlimited', Properties: ['SmtpClientAuthenticationDisabled'] };
  for (const n of sizes([10000, 100000], [2000, 10000])) {
    const env = { EXO_PLAYBOOK_STUB_STATE: await writeTenant(generateTenant({ mailboxes: n, seed: 2 })) };
    const bridge = [];
    const plain = [];
    const bridgeCpu = [];
    const plainCpu = [];
    const nodeCpu = [];
    let hostRss = 0;
    let plainRss = 0;
    const cliRss0 = process.memoryUsage().rss;
    let cliRss = 0;
    for (let r = 0; r < rounds; r++) {
      const session = await PwshSession.start({ pwshPath: pwsh, modulePaths: [modules], env });
      await session.invoke('Get-TransportConfig'); // loads the state file: both sides time only the read
      const cpu0 = await cpuSeconds(session.pid);
      const node0 = process.cpuUsage();
      const t0 = performance.now();
      let count = 0;
      for await (const object of session.stream('Get-EXOCASMailbox', bulk, { select })) {
        if (object) count++;
        if (count % 1000 === 0) cliRss = Math.max(cliRss, process.memoryUsage().rss);
      }
      bridge.push(performance.now() - t0);
      const node1 = process.cpuUsage(node0);
      nodeCpu.push((node1.user + node1.system) / 1e6);
      bridgeCpu.push((await cpuSeconds(session.pid)) - cpu0);
      hostRss = Math.max(hostRss, await peakRss(session.pid));
      if (count !== n) throw new Error(`bench: the bridge read ${count} of ${n} mailboxes`);
      await session.close();
      const script = [
        'Import-Module ExchangeOnlineManagement',
        '$null = Get-TransportConfig',
        '$me = [Diagnostics.Process]::GetCurrentProcess(); $cpu = $me.TotalProcessorTime',
        '$sw = [Diagnostics.Stopwatch]::StartNew()',
        '$n = 0; Get-EXOCASMailbox -ResultSize Unlimited -Properties SmtpClientAuthenticationDisabled | ForEach-Object { $n++ }',
        '$ms = $sw.Elapsed.TotalMilliseconds; $me.Refresh()',
        '"{0} {1} {2} {3}" -f $ms.ToString([cultureinfo]::InvariantCulture), ($me.TotalProcessorTime - $cpu).TotalSeconds.ToString([cultureinfo]::InvariantCulture), $me.PeakWorkingSet64, $n',
      ].join('; ');
      const [ms, cpu, peak, read] = (await pwshRun(script, env)).stdout.trim().split('\n').pop().split(' ').map(Number);
      if (read !== n) throw new Error(`bench: the plain loop read ${read} of ${n} mailboxes`);
      plain.push(ms);
      plainCpu.push(cpu);
      plainRss = Math.max(plainRss, peak);
    }
    const b = median(bridge);
    const p = median(plain);
    const mb = (x) => (x / 2 ** 20).toFixed(0);
    figure(`bulk read of ${n} through the bridge vs plain pwsh`, `${(b / p).toFixed(2)}× (${(b / 1000).toFixed(2)} vs ${(p / 1000).toFixed(2)} s)`, '≤ 1.5×', b / p <= 1.5);
    figure(`peak RSS of the pwsh host, bulk read of ${n}`, `${mb(hostRss)} MB`, '≤ 300 MB', hostRss <= 300 * 2 ** 20);
    // The bench process holds the generated tenants too: its growth during the stream is the bridge's share.
    figure(`growth of the bench process (PwshSession) during the bulk read of ${n}`, `${mb(Math.max(0, cliRss - cliRss0))} MB`, '≤ 300 MB', cliRss - cliRss0 <= 300 * 2 ** 20);
    say(
      `bulk read of ${n}: bridge ${(b / 1000).toFixed(2)} s, plain pwsh ${(p / 1000).toFixed(2)} s, ratio ${(b / p).toFixed(2)}× (goal ≤ 1.5×); ` +
        `CPU during the read: host ${median(bridgeCpu).toFixed(2)} s + bench process ${median(nodeCpu).toFixed(2)} s, plain pwsh ${median(plainCpu).toFixed(2)} s; ` +
        `peak RSS: pwsh host ${mb(hostRss)} MB, plain pwsh ${mb(plainRss)} MB, bench process ${mb(cliRss)} MB (${mb(cliRss0)} MB before); ` +
        `load average ${os.loadavg()[0].toFixed(2)}`,
    );
  }
}

/** A tenant whose apply makes `strays` writes: every mailbox follows the org except `strays` explicit $false; no usage. */
function applyTenant(n, strays, latencyMs) {
  const state = generateTenant({ mailboxes: n, seed: 3, activeSenders: 0, explicitEnabled: 0, explicitDisabled: 0 });
  state.smtpAuthActivity = [];
  const users = state.mailboxes.filter((m) => m.RecipientTypeDetails === 'UserMailbox');
  for (const m of users.slice(0, strays)) m.SmtpClientAuthenticationDisabled = false;
  if (latencyMs) state.faults = { ...(state.faults ?? {}), latencyMs };
  return { state, allow: users.slice(0, 2).map((m) => m.PrimarySmtpAddress) };
}
const playbook = (allow) => `apiVersion: exo-playbook/v1
name: bench
tenant:
  organization: contoso.onmicrosoft.com
  auth: { method: access-token, token: "\${env:EXO_TOKEN}" }
# The hand-written script it is compared with reads no usage either: same work on both sides.
acceptNoUsageEvidence: { reason: "benchmark on a simulated tenant: no senders to protect" }
steps:
  - id: org
    uses: transport-config
    with: { smtpClientAuthenticationDisabled: true }
  - id: allow
    uses: smtp-auth/allowlist
    with: { mailboxes: [${allow.join(', ')}], exclusive: true }
`;
/** The command line and environment of `exo-playbook apply` of the bench's playbook on a state file. */
async function applyCommand(stateFile, allow, target, extraArgs = []) {
  const file = path.join(dir, `playbook-${++seq}.yaml`);
  await fs.writeFile(file, playbook(allow));
  const env = {
    NO_COLOR: '1',
    EXO_TOKEN: TOKEN,
    EXO_PLAYBOOK_PWSH: pwsh,
    EXO_PLAYBOOK_MODULE_PATH: modules,
    EXO_PLAYBOOK_STUB_STATE: stateFile,
    EXO_PLAYBOOK_LOCK_DIR: path.join(dir, 'locks'),
  };
  const targetArg = target === 'exchange' ? 'exchange' : `sim:${stateFile}`;
  return { args: [cli, 'apply', file, '--target', targetArg, '--runs-dir', path.join(dir, `runs-${seq}`), '--yes', ...extraArgs], env };
}
async function applyCli(stateFile, allow, target, concurrency, logFile) {
  const { args, env } = await applyCommand(stateFile, allow, target, ['--concurrency', String(concurrency), ...(logFile ? ['--log-file', logFile] : [])]);
  const result = await timed(process.execPath, args, env);
  if (result.code !== 0) say(`  (apply exited ${result.code}: ${result.out.trim().split('\n').slice(-3).join(' | ')})`);
  return result;
}

// --- 3b. memory: the CLI and its pwsh host during a big apply ---------------------------------------
// `apply` (org off + exclusive allowlist, 20 writes) of a big tenant on the simulator and through pwsh +
// stub; the peak resident size (VmHWM) of the CLI process and of its pwsh host, polled every 100 ms.
/** Pids of a process's descendants (Linux /proc). */
async function descendants(pid) {
  const children = (await fs.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean).map(Number);
  const all = [...children];
  for (const child of children) all.push(...(await descendants(child)));
  return all;
}
if (want('memory')) {
  for (const n of sizes([100000], [10000])) {
    for (const target of ['sim', 'exchange']) {
      const { state, allow } = applyTenant(n, 20, 0);
      const { args, env } = await applyCommand(await writeTenant(state), allow, target);
      const t0 = performance.now();
      const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise((done) => child.on('close', done));
      let cliPeak = 0;
      let hostPeak = 0;
      let running = true;
      void exited.then(() => (running = false));
      while (running) {
        cliPeak = Math.max(cliPeak, await peakRss(child.pid));
        for (const pid of await descendants(child.pid)) hostPeak = Math.max(hostPeak, await peakRss(pid));
        await new Promise((r) => setTimeout(r, 100));
      }
      const code = await exited;
      const mb = (x) => (x / 2 ** 20).toFixed(0);
      const where = target === 'sim' ? 'on the simulator' : 'through pwsh + stub';
      figure(`peak RSS of the CLI, apply of ${n} ${where}`, `${mb(cliPeak)} MB`, '≤ 300 MB', code === 0 && cliPeak <= 300 * 2 ** 20);
      if (target !== 'sim') figure(`peak RSS of the pwsh host, apply of ${n}`, `${mb(hostPeak)} MB`, '≤ 300 MB', code === 0 && hostPeak <= 300 * 2 ** 20);
      say(
        `memory, apply of ${n} ${where}: exit ${code}, ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
          `peak RSS: CLI ${mb(cliPeak)} MB${target === 'sim' ? '' : `, pwsh host ${mb(hostPeak)} MB`} (goal ≤ 300 MB each); load average ${os.loadavg()[0].toFixed(2)}`,
      );
      if (code !== 0) say(`  (apply exited ${code}: ${out.trim().split('\n').slice(-3).join(' | ')})`);
    }
  }
}

// --- 4. apply + verify vs a hand-written script ------------------------------------------------
// Rounds alternate which of the two runs first (neither always gets the warmer file cache or the
// quieter moment), and the line gives the best round besides the median: on a machine shared with
// other work the best of N is the closer estimate of what each costs alone.
// The script runs with --hand-env (default DOTNET_TieredPGO=0,DOTNET_gcConcurrent=0, as the CLI's host: equal runtime settings).
if (want('apply')) {
  for (const n of sizes([1000, 10000], [1000])) {
    const strays = Math.max(20, Math.round(n * 0.01));
    const cli = [];
    const hand = [];
    // --log-dir DIR keeps each CLI run's --log-file here too (events with timestamps).
    const runCli = async (state, allow) => {
      const logFile = argv['log-dir'] ? path.resolve(String(argv['log-dir']), `apply-${n}-round${cli.length + 1}.jsonl`) : undefined;
      cli.push((await applyCli(await writeTenant(state), allow, 'exchange', 1, logFile)).ms);
    };
    const runHand = async (state, allow) => {
      const h = await timed(pwsh, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', path.join(root, 'scripts', 'bench', 'hand-written-apply.ps1'), '-Allowlist', allow.join(',')], {
        EXO_TOKEN: TOKEN,
        EXO_PLAYBOOK_STUB_STATE: await writeTenant(state),
        PSModulePath: psModulePath,
        ...handEnv,
      });
      if (h.code !== 0 || !/wrong=0/.test(h.out)) say(`  (hand-written script: exit ${h.code}: ${h.out.trim().split('\n').slice(-3).join(' | ')})`);
      hand.push(h.ms);
    };
    const load = [];
    for (let r = 0; r < rounds; r++) {
      const { state, allow } = applyTenant(n, strays);
      load.push(os.loadavg()[0]);
      if (r % 2 === 0) {
        await runCli(state, allow);
        await runHand(state, allow);
      } else {
        await runHand(state, allow);
        await runCli(state, allow);
      }
    }
    const s = (ms) => (ms / 1000).toFixed(2);
    const best = (xs) => Math.min(...xs);
    const ratio = median(cli) / median(hand);
    figure(`apply + verify of ${n} vs the hand-written script (median of ${rounds})`, `${ratio.toFixed(2)}× (${s(median(cli))} vs ${s(median(hand))} s)`, '≤ 1.10×', ratio <= 1.1);
    say(
      `apply + verify of ${n} (${strays + 1} writes) through pwsh + stub (script with ${handEnvText}), ${rounds} round(s), load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}: ` +
        `median exo-playbook ${s(median(cli))} s, hand-written script ${s(median(hand))} s, ratio ${(median(cli) / median(hand)).toFixed(2)}×; ` +
        `best ${s(best(cli))} s vs ${s(best(hand))} s, ratio ${(best(cli) / best(hand)).toFixed(2)}× (goal ≤ 1.10×)`,
    );
  }
}

// --- 5. concurrency 3 vs 1 at 300 ms per call --------------------------------------------------
if (want('concurrency')) {
  const latency = 300;
  const strays = Number(argv.strays ?? 150);
  // Where a run's time went, from its --log-file: the writes (first change-start to last change-end)
  // and everything else (node and pwsh start, sign-in, reads, verify, closing).
  const phases = async (logFile, wallMs) => {
    const events = (await fs.readFile(logFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const at = (e) => Date.parse(e.at);
    const starts = events.filter((e) => e.type === 'change-start');
    const ends = events.filter((e) => e.type === 'change-end');
    const writesMs = starts.length ? Math.max(...ends.map(at)) - Math.min(...starts.map(at)) : 0;
    return { writes: starts.length, writesMs, restMs: wallMs - writesMs };
  };
  const s1 = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const load = () => os.loadavg()[0].toFixed(1);
  // --targets exchange|simulator: only one of the two.
  for (const target of argv.targets ? String(argv.targets).split(',') : ['exchange', 'simulator']) {
    for (const n of sizes([1000, 10000], [1000])) {
      const runs = {};
      const loads = [load()];
      for (const concurrency of [1, 3]) {
        const { state, allow } = applyTenant(n, strays, latency);
        // --log-dir DIR keeps each run's --log-file (events with timestamps: where the time went).
        const logFile = path.resolve(argv['log-dir'] ? String(argv['log-dir']) : dir, `concurrency-${target}-${n}-c${concurrency}.jsonl`);
        await fs.ensureDir(path.dirname(logFile));
        const { ms } = await applyCli(await writeTenant(state), allow, target, concurrency, logFile);
        runs[concurrency] = { ms, ...(await phases(logFile, ms).catch(() => ({ writes: 0, writesMs: 0, restMs: ms }))) };
        loads.push(load());
      }
      const [one, three] = [runs[1], runs[3]];
      const speedUp = one.ms / three.ms;
      figure(`--concurrency 3 vs 1, ${n} mailboxes, ${one.writes} writes, ${target === 'exchange' ? 'pwsh + stub' : 'simulator'}`, `${speedUp.toFixed(2)}× (${s1(one.ms)} vs ${s1(three.ms)})`, '≥ 2.5×', speedUp >= 2.5);
      say(
        `apply of ${n} (${one.writes} writes, ${latency} ms per call) on ${target === 'exchange' ? 'pwsh + stub' : 'the simulator'}: ` +
          `--concurrency 1 ${s1(one.ms)}, 3 ${s1(three.ms)}, speed-up ${(one.ms / three.ms).toFixed(2)}× (goal ≥ 2.5×); load ${loads.join(' → ')}`,
      );
      // The pool's own share: how much faster the writes got; the rest (node and pwsh start, sign-in,
      // the observe reads, verify, closing) is what keeps the whole run under 3×.
      say(
        `  writes ${s1(one.writesMs)} → ${s1(three.writesMs)} (${(one.writesMs / three.writesMs).toFixed(2)}×); ` +
          `the rest (start, sign-in, reads, verify, exit) ${s1(one.restMs)} → ${s1(three.restMs)}`,
      );
    }
  }
}

// --- 5b. fleets ---------------------------------------------------------------------------------
// Issue 20's goals, each in this one run:
//  - `fleet plan` of --fleet-tenants (200; --quick 40) simulated tenants × 500 mailboxes at 300 ms per
//    call (the simulator's latency knob): --parallel 8 vs --parallel 1 (goal ≥ 6×);
//  - through pwsh + the stub module (one state per organization, EXO_STUB_STATE_DIR), 12 tenants at
//    300 ms per call: --parallel 4 vs 1 (goal ≥ 3×), and the most PowerShell hosts alive at once
//    (polled every 100 ms; goal ≤ parallel × sessions per tenant = 4);
//  - peak RSS of the CLI for a fleet plan of --fleet-memory-tenants (1,000; --quick 200) simulated tenants (goal ≤ 400 MB);
//  - `fleet merge` of that plan's 1,000 tenant results, split in 10 shard files (goal ≤ 3 s), and its
//    markdown (goal < 60,000 characters).
async function simFleet(name, tenants, mailboxes, latencyMs) {
  const fleetDir = path.join(dir, name);
  await $`${process.execPath} ${cli} sim init-fleet ${fleetDir} --tenants ${tenants} --mailboxes ${mailboxes} --seed bench`;
  if (latencyMs) {
    for (const file of await fs.readdir(path.join(fleetDir, 'tenants'))) {
      const state = await fs.readJson(path.join(fleetDir, 'tenants', file));
      state.faults = { ...(state.faults ?? {}), latencyMs };
      await fs.writeJson(path.join(fleetDir, 'tenants', file), state);
    }
  }
  return fleetDir;
}
/** Runs the CLI, polling its peak RSS and how many pwsh processes are alive below it. */
async function watched(args, env) {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1', EXO_PLAYBOOK_LOCK_DIR: path.join(dir, 'locks'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((done) => child.on('close', done));
  let running = true;
  void exited.then(() => (running = false));
  let rss = 0;
  let hosts = 0;
  while (running) {
    rss = Math.max(rss, await peakRss(child.pid));
    let alive = 0;
    for (const pid of await descendants(child.pid)) {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (/pwsh/.test(cmdline)) alive += 1;
    }
    hosts = Math.max(hosts, alive);
    await new Promise((r) => setTimeout(r, 100));
  }
  const code = await exited;
  return { code, ms: performance.now() - t0, rss, hosts, out };
}
if (want('fleet')) {
  const s1 = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const planArgs = (fleetDir, parallel, extra = []) => ['fleet', 'plan', path.join(fleetDir, 'smtp-auth-fleet.yaml'), '--inventory', path.join(fleetDir, 'inventory.yaml'), '--parallel', String(parallel), '--format', 'json', ...extra];
  const expectPlan = (r, what) => {
    if (r.code !== 2 && r.code !== 0) say(`  (${what} exited ${r.code}: ${r.out.trim().split('\n').slice(-3).join(' | ')})`);
    return r.code === 2 || r.code === 0;
  };

  const n = Number(argv['fleet-tenants'] ?? (quick ? 40 : 200));
  const latency = 300;
  const simDir = await simFleet('fleet-sim', n, 500, latency);
  const p1 = await watched(planArgs(simDir, 1), {});
  const p8 = await watched(planArgs(simDir, 8), {});
  const simRatio = p1.ms / p8.ms;
  say(`fleet plan of ${n} simulated tenants × ~500 mailboxes at ${latency} ms per call: --parallel 1 ${s1(p1.ms)}, 8 ${s1(p8.ms)}, speed-up ${simRatio.toFixed(2)}× (goal ≥ 6×); load ${os.loadavg()[0].toFixed(2)}`);
  figure(`fleet plan of ${n} sim tenants, --parallel 8 vs 1`, `${simRatio.toFixed(2)}×`, '≥ 6×', expectPlan(p1, 'parallel 1') && expectPlan(p8, 'parallel 8') && simRatio >= 6);

  // Through pwsh + stub: the inventory signs in with an access token (-AccessToken -Organization <tenant>).
  const stubDir = await simFleet('fleet-stub', 12, 50, latency);
  const inventory = path.join(stubDir, 'inventory.yaml');
  const text = await fs.readFile(inventory, 'utf8');
  await fs.writeFile(
    inventory,
    text
      .replace(/^ {2}auth: .*$/m, '  auth: { method: access-token, token: "${env:EXO_TOKEN}" }')
      .replace(/^ {4}(target|auth): .*\n/gm, ''),
  );
  const stubEnv = { EXO_TOKEN: TOKEN, EXO_PLAYBOOK_PWSH: pwsh, EXO_PLAYBOOK_MODULE_PATH: modules, EXO_STUB_STATE_DIR: path.join(stubDir, 'tenants') };
  const w1 = await watched(planArgs(stubDir, 1), stubEnv);
  const w4 = await watched(planArgs(stubDir, 4), stubEnv);
  const stubRatio = w1.ms / w4.ms;
  say(`fleet plan of 12 tenants through pwsh + stub at ${latency} ms per call: --parallel 1 ${s1(w1.ms)} (at most ${w1.hosts} host(s) alive), 4 ${s1(w4.ms)} (at most ${w4.hosts} alive), speed-up ${stubRatio.toFixed(2)}× (goal ≥ 3×; hosts ≤ 4); load ${os.loadavg()[0].toFixed(2)}`);
  figure('fleet plan of 12 tenants via pwsh + stub, --parallel 4 vs 1', `${stubRatio.toFixed(2)}×`, '≥ 3×', expectPlan(w1, 'pwsh parallel 1') && expectPlan(w4, 'pwsh parallel 4') && stubRatio >= 3);
  figure('most pwsh hosts alive, --parallel 4 (1 session per tenant)', String(w4.hosts), '≤ 4', w4.hosts <= 4 && w1.hosts <= 1);

  const m = Number(argv['fleet-memory-tenants'] ?? (quick ? 200 : 1000));
  const bigDir = await simFleet('fleet-big', m, 10, 0);
  const resultFile = path.join(dir, 'fleet-big.json');
  const big = await watched(planArgs(bigDir, 8, ['--result', resultFile]), {});
  const mb = (x) => (x / 2 ** 20).toFixed(0);
  say(`fleet plan of ${m} simulated tenants (--parallel 8): exit ${big.code}, ${s1(big.ms)}, peak RSS of the CLI ${mb(big.rss)} MB (goal ≤ 400 MB)`);
  figure(`peak RSS of the CLI, fleet plan of ${m} sim tenants`, `${mb(big.rss)} MB`, '≤ 400 MB', expectPlan(big, 'big fleet') && big.rss <= 400 * 2 ** 20);

  // The same result as 10 shard files, then one merge.
  const whole = await fs.readJson(resultFile);
  const shards = 10;
  const files = [];
  for (let k = 1; k <= shards; k++) {
    const file = path.join(dir, `fleet-shard-${k}.json`);
    await fs.writeJson(file, { ...whole, selection: { ...whole.selection, shard: { k, n: shards } }, tenants: whole.tenants.filter((_, i) => i % shards === k - 1) });
    files.push(file);
  }
  const merged = await watched(['fleet', 'merge', ...files, '--format', 'markdown'], {});
  const chars = merged.out.length;
  say(`fleet merge of ${whole.tenants.length} tenant results in ${shards} files: exit ${merged.code}, ${s1(merged.ms)} (goal ≤ 3 s); markdown ${chars} characters (goal < 60,000); peak RSS ${mb(merged.rss)} MB`);
  figure(`fleet merge of ${whole.tenants.length} tenant results`, s1(merged.ms), '≤ 3 s', expectPlan(merged, 'merge') && merged.ms <= 3000);
  figure(`markdown of ${whole.tenants.length} tenants`, `${chars} chars`, '< 60,000', chars < 60_000);
}

// --- 6. the whole test suite --------------------------------------------------------------------
// `npm test` exactly as README says (typecheck, lint, build, every test), wall time. Only in a full run
// or with --only tests: it takes minutes and loads the machine.
if ((!quick && !only) || only?.has('tests')) {
  const load0 = os.loadavg()[0];
  const npm = process.env.npm_execpath && /\.[cm]?js$/.test(process.env.npm_execpath) ? [process.execPath, [process.env.npm_execpath, 'test']] : ['npm', ['test']];
  const started = performance.now();
  const result = await new Promise((done, fail) => {
    const child = spawn(npm[0], npm[1], { cwd: root, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
  const seconds = (performance.now() - started) / 1000;
  const tests = /Tests\s+(\d+) passed/.exec(stripVTControlCharacters(result.out))?.[1] ?? '?';
  say(`npm test: exit ${result.code}, ${tests} tests passed, ${seconds.toFixed(0)} s (goal: about 180 s); load average ${load0.toFixed(2)} → ${os.loadavg()[0].toFixed(2)}`);
  figure(`npm test (${tests} tests)`, `${seconds.toFixed(0)} s, exit ${result.code}`, '≈ 180 s', result.code === 0 && seconds <= 190);
}

say(`load average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
if (figures.length) {
  const width = Math.max(...figures.map((f) => f.what.length));
  say('');
  say(`${'figure'.padEnd(width)} | measured | goal | met`);
  for (const f of figures) say(`${f.what.padEnd(width)} | ${f.value} | ${f.goal} | ${f.met ? 'yes' : 'NO'}`);
  const missed = figures.filter((f) => !f.met).length;
  say(missed ? `${missed} of ${figures.length} figures miss their goal` : `all ${figures.length} figures meet their goal`);
}
await fs.remove(dir);
