/**
 * host.ps1 spoken to directly, without PwshSession: every protocol line carries the token from the
 * hello line, one `end` per request, a line that is not a request does not stop the host, and quit
 * ends it with exit code 0.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { hostScriptPath } from '../../../src/exchange/find-pwsh.js';
import { until, within } from '../../support/wait.js';
import { fixtureTenant, noPwsh, pwshPath, stubModulePath, tempDir, writeState } from './pwsh-for-tests.js';

/** Runs host.ps1 with these lines on stdin (objects as JSON, strings as they are); its token-prefixed lines parsed. */
async function talkToHost(token: string, lines: readonly (object | string)[], env: Record<string, string>) {
  const input = lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');
  const result = await execa(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', hostScriptPath], { input: `${input}\n`, env, reject: false });
  const stdout = result.stdout.split('\n');
  const protocol = stdout.filter((l) => l.startsWith(`${token} `)).map((l) => JSON.parse(l.slice(token.length + 1)) as ProtocolLine);
  return { exitCode: result.exitCode, stderr: result.stderr, stdout, protocol };
}
interface ProtocolLine {
  id?: number;
  type: string;
  ok?: boolean;
  data?: Record<string, unknown>[];
  message?: string;
  record?: { message: string };
}
const modulePath = (modules: string) => [modules, process.env.PSModulePath ?? ''].filter(Boolean).join(delimiter);

/** A module folder holding a one-file ExchangeOnlineManagement with these lines (a stand-in for one test). */
function standInModule(tag: string, lines: readonly string[]): string {
  const modules = tempDir(tag);
  mkdirSync(join(modules, 'ExchangeOnlineManagement'));
  writeFileSync(join(modules, 'ExchangeOnlineManagement', 'ExchangeOnlineManagement.psm1'), lines.join('\n'));
  return modules;
}

describe.skipIf(noPwsh)('host.ps1 protocol', () => {
  it('answers with token-prefixed JSON lines and survives a line that is not a request', async () => {
    const token = 'f00dfeedf00dfeedf00dfeedf00dfeed';
    const stateFile = writeState(tempDir('proto'), fixtureTenant());
    const result = await talkToHost(
      token,
      [
        { type: 'hello', token, module: 'ExchangeOnlineManagement' },
        'not json at all',
        { type: 'invoke', id: 1, cmdlet: 'Connect-ExchangeOnline', parameters: { AccessToken: 't' } },
        { type: 'invoke', id: 2, cmdlet: 'Get-TransportConfig', parameters: {} },
        { type: 'quit' },
      ],
      { EXO_PLAYBOOK_STUB_STATE: stateFile, PSModulePath: modulePath(stubModulePath) },
    );
    expect(result.exitCode).toBe(0);
    const protocol = result.protocol;
    const stray = result.stdout.filter((l) => !l.startsWith(`${token} `));
    // The stub's banner (Connect without -ShowBanner:$false) is the only non-protocol line.
    expect(stray).toEqual(['This V3 EXO PowerShell module contains new REST API backed Exchange Online cmdlets (stub).']);
    expect(protocol.map((m) => [m.id ?? null, m.type])).toEqual([
      [null, 'ready'],
      [1, 'end'],
      [2, 'objects'],
      [2, 'end'],
    ]);
    expect(protocol[2]).toMatchObject({ data: [{ Identity: 'Transport Settings' }] });
    expect(result.stderr).toContain('ignored a line that is not a request');
  });

  it('batches objects per line, converts only the selected properties, and keeps warnings and errors in output order', async () => {
    const token = 'feedf00dfeedf00dfeedf00dfeedf00d';
    // A module of its own whose bulk read writes 300 objects, a warning, an error, then 5 objects.
    const modules = standInModule('batchmod', [
      'function Get-EXOCASMailbox {',
      '  [CmdletBinding()] param([object]$ResultSize, [string[]]$Properties)',
      '  for ($i = 0; $i -lt 300; $i++) { [pscustomobject]@{ PrimarySmtpAddress = "u$i@contoso.com"; Secret = "s$i"; SmtpClientAuthenticationDisabled = $null } }',
      "  $PSCmdlet.WriteWarning('in the middle')",
      "  $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new('mid-stream'), 'Mid', 'InvalidOperation', $null))",
      '  for ($i = 300; $i -lt 305; $i++) { [pscustomobject]@{ PrimarySmtpAddress = "u$i@contoso.com"; Secret = "s$i"; SmtpClientAuthenticationDisabled = $true } }',
      '}',
    ]);
    const result = await talkToHost(
      token,
      [
        { type: 'hello', token, module: 'ExchangeOnlineManagement' },
        {
          type: 'invoke',
          id: 7,
          cmdlet: 'Get-EXOCASMailbox',
          // ErrorAction Continue: the error stays non-terminating whatever preference the module sees.
          parameters: { ResultSize: 'Unlimited', ErrorAction: 'Continue' },
          select: ['PrimarySmtpAddress', 'SmtpClientAuthenticationDisabled'],
        },
        { type: 'quit' },
      ],
      { PSModulePath: modulePath(modules) },
    );
    expect(result.exitCode).toBe(0);
    const protocol = result.protocol;
    const kinds = protocol.slice(1).map((m) => (m.type === 'objects' ? `objects:${m.data!.length}` : m.type));
    // At most 256 per line; the 300 before the warning all arrive before it, the 5 after the error after it.
    expect(kinds.at(-1), JSON.stringify(protocol.slice(-3))).toBe('end');
    const warningAt = kinds.indexOf('warning');
    expect(kinds[warningAt + 1], JSON.stringify(kinds)).toBe('error');
    const count = (from: number, to: number): number =>
      protocol
        .slice(1)
        .slice(from, to)
        .reduce((n, m) => n + (m.data?.length ?? 0), 0);
    expect(count(0, warningAt)).toBe(300);
    expect(count(warningAt, kinds.length)).toBe(5);
    expect(kinds.slice(0, warningAt).every((k) => k.startsWith('objects:') && Number(k.slice(8)) <= 256)).toBe(true);
    expect(kinds.slice(0, warningAt).length).toBeLessThan(300);
    const objects = protocol.flatMap((m) => (m.type === 'objects' ? m.data! : []));
    expect(objects[0]).toEqual({ PrimarySmtpAddress: 'u0@contoso.com', SmtpClientAuthenticationDisabled: null });
    expect(objects[304]).toEqual({ PrimarySmtpAddress: 'u304@contoso.com', SmtpClientAuthenticationDisabled: true });
  });

  // A module whose bulk read writes one object with every kind of value a real mailbox read can hold.
  function typedModule(): string {
    return standInModule('typedmod', [
      'function Get-EXOCASMailbox {',
      '  [CmdletBinding()] param([object]$ResultSize)',
      '  foreach ($switch in $null, $true, $false) {',
      '    [pscustomobject][ordered]@{',
      '      SmtpClientAuthenticationDisabled = $switch',
      "      Guid = [guid]'3640e451-e7e8-4fce-a5a9-38d24a489dbe'",
      "      WhenCreated = [datetime]::new(2026, 3, 1, 8, 30, 0, [System.DateTimeKind]::Utc)",
      "      EmailAddresses = [string[]]@('SMTP:ann@contoso.com', 'smtp:ann@contoso.onmicrosoft.com')",
      "      Proxies = [System.Collections.Generic.List[object]]@('x500:/o=a', 7)",
      '      Count = 42; Big = [long]50000000000; Ratio = 1.5; Day = [System.DayOfWeek]::Monday',
      "      Policy = [ordered]@{ Name = 'Block'; AllowBasicAuthSmtp = $false }",
      "      Nested = [pscustomobject]@{ When = [datetimeoffset]::new(2026, 3, 1, 10, 0, 0, [timespan]::FromHours(2)); Empty = @() }",
      "      Secret = (ConvertTo-SecureString 'p' -AsPlainText -Force)",
      '    }',
      '  }',
      '}',
    ]);
  }

  /**
   * One host, one bulk read per entry of `selects` (in order, ids 3, 4, …): a host start costs ~1 s of
   * CPU, and a host serves any number of requests; the reads' objects, each ended `ok`.
   */
  async function bulkReads(modules: string, selects: (string[] | undefined)[], env: Record<string, string> = {}) {
    const token = 'c0ffeec0ffeec0ffeec0ffeec0ffeec0';
    const ids = selects.map((_, i) => 3 + i);
    const result = await talkToHost(
      token,
      [
        { type: 'hello', token, module: 'ExchangeOnlineManagement' },
        ...selects.map((select, i) => ({ type: 'invoke', id: ids[i], cmdlet: 'Get-EXOCASMailbox', parameters: { ResultSize: 'Unlimited' }, ...(select ? { select } : {}) })),
        { type: 'quit' },
      ],
      { PSModulePath: modulePath(modules), ...env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const reads = ids.map((id) => {
      const protocol = result.protocol.filter((m) => m.id === id);
      expect(protocol.at(-1), `request ${id}`).toMatchObject({ type: 'end', ok: true });
      return protocol.flatMap((m) => (m.type === 'objects' ? m.data! : []));
    });
    return { reads, stderr: result.stderr };
  }

  async function bulkRead(modules: string, select: string[] | undefined, env: Record<string, string> = {}) {
    const { reads, stderr } = await bulkReads(modules, [select], env);
    return { objects: reads[0]!, stderr };
  }

  const every = ['SmtpClientAuthenticationDisabled', 'Guid', 'WhenCreated', 'EmailAddresses', 'Proxies', 'Count', 'Big', 'Ratio', 'Day', 'Policy', 'Nested', 'Secret'];

  /** What typedModule's read gives: the same object three times, the switch $null, $true, $false. */
  const TYPED_OBJECTS = [null, true, false].map((SmtpClientAuthenticationDisabled) => ({
    SmtpClientAuthenticationDisabled,
    Guid: '3640e451-e7e8-4fce-a5a9-38d24a489dbe',
    WhenCreated: '2026-03-01T08:30:00.000Z',
    EmailAddresses: ['SMTP:ann@contoso.com', 'smtp:ann@contoso.onmicrosoft.com'],
    Proxies: ['x500:/o=a', 7],
    Count: 42,
    Big: 50000000000,
    Ratio: 1.5,
    Day: 'Monday',
    Policy: { Name: 'Block', AllowBasicAuthSmtp: false },
    Nested: { When: '2026-03-01T08:00:00.000Z', Empty: [] },
    Secret: '[redacted]',
  }));

  it('the compiled writer (with select) gives the same values as the PowerShell conversion (without select, or with no cache): null/true/false, Guids, dates, string lists, numbers, nested objects', async () => {
    const modules = typedModule();
    // One host for three reads: with select (the compiled writer), without (PowerShell), a narrower select.
    const {
      reads: [selected, whole, some],
      stderr,
    } = await bulkReads(modules, [every, undefined, ['guid', 'Count']]);
    // No cache folder (its place is taken by a file): nothing compiled is loaded, PowerShell converts.
    const noCache = tempDir('nocache');
    writeFileSync(join(noCache, 'exo-playbook'), 'not a folder');
    const plain = await bulkRead(modules, undefined, { XDG_CACHE_HOME: noCache });
    expect(stderr).not.toContain('unavailable'); // the compiled writer did the reads with select
    expect(selected).toEqual(plain.objects);
    expect(whole).toEqual(plain.objects);
    expect(selected!.map((o) => o.SmtpClientAuthenticationDisabled)).toEqual([null, true, false]);
    expect(selected).toEqual(TYPED_OBJECTS);
    // Only what was selected.
    expect(some![2]).toEqual({ Guid: '3640e451-e7e8-4fce-a5a9-38d24a489dbe', Count: 42 });
  });

  it('still reads, converting in PowerShell, when the compiled writer has no cache folder to live in, and says so on stderr', async () => {
    const modules = typedModule();
    // The cache folder's place is taken by a file (pwsh itself still gets a usable XDG_CACHE_HOME).
    const cache = tempDir('nocache');
    writeFileSync(join(cache, 'exo-playbook'), 'not a folder');
    const read = await bulkRead(modules, every, { XDG_CACHE_HOME: cache });
    expect(read.stderr).toContain('the compiled object writer is unavailable, converting in PowerShell');
    expect(read.objects).toEqual(TYPED_OBJECTS);
  });

  it('a damaged cached writer is not used: that host converts in PowerShell and removes it, the next one compiles it again', async () => {
    const modules = typedModule();
    const cache = tempDir('cache');
    const first = await bulkRead(modules, every, { XDG_CACHE_HOME: cache }); // compiles into this cache
    expect(first.stderr).not.toContain('unavailable');
    expect(first.objects).toEqual(TYPED_OBJECTS);
    const folder = join(cache, 'exo-playbook');
    const dll = readdirSync(folder).find((name) => name.startsWith('host-writer-') && name.endsWith('.dll'));
    expect(dll).toBeDefined();
    writeFileSync(join(folder, dll!), 'not an assembly');
    const damaged = await bulkRead(modules, every, { XDG_CACHE_HOME: cache });
    expect(damaged.stderr).toContain('the compiled object writer is unavailable, converting in PowerShell');
    expect(damaged.objects).toEqual(first.objects);
    const healed = await bulkRead(modules, every, { XDG_CACHE_HOME: cache });
    expect(healed.stderr).not.toContain('unavailable');
    expect(healed.objects).toEqual(first.objects);
    // A cached writer others may write is never loaded into a signed-in host, not even loaded: the
    // PowerShell path serves. (A module whose read lists the compiled writers the process has loaded.)
    const loaded = loadedWritersModule();
    expect((await bulkRead(loaded, ['Loaded'], { XDG_CACHE_HOME: cache })).objects).toEqual([{ Loaded: [join(folder, dll!)] }]);
    expect(statSync(join(folder, dll!)).mode & 0o022).toBe(0);
    chmodSync(join(folder, dll!), 0o666);
    const loose = await bulkRead(loaded, ['Loaded'], { XDG_CACHE_HOME: cache });
    expect(loose.stderr).toContain('may be written by other users');
    expect(loose.objects).toEqual([{ Loaded: [] }]);
  }); // two compiles (1.5-3 s each idle, several times that on a loaded 2-core machine) and four hosts

  function loadedWritersModule(): string {
    return standInModule('loadedmod', [
      'function Get-EXOCASMailbox {',
      '  [CmdletBinding()] param([object]$ResultSize)',
      "  [pscustomobject]@{ Loaded = [string[]]@([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.Location -like '*host-writer-*' } | ForEach-Object { $_.Location }) }",
      '}',
    ]);
  }

  it('the compiled loop (cached host-writer.cs) and the PowerShell loop answer every request with the same lines', async () => {
    const modules = standInModule('parity', [
      'function Connect-ExchangeOnline {',
      '  [CmdletBinding()] param([string]$Organization, [securestring]$CertificatePassword, [string[]]$Scopes, [object]$Extra, [object]$Count, [object]$Big, [object]$Ratio, [object]$Empty, [object]$Since, [datetime]$Until)',
      "  [pscustomobject]@{ PasswordMatches = [System.Net.NetworkCredential]::new('', $CertificatePassword).Password -eq 'pa$$ w0rd'; Scopes = $Scopes.GetType().Name",
      '    Extra = $Extra.GetType().Name; ExtraX = $Extra.x; Count = $Count.GetType().Name; Big = $Big.GetType().Name; Ratio = $Ratio.GetType().Name; Empty = $Empty.GetType().Name; When = $Organization',
      "    Since = $Since.GetType().Name + ' ' + $Since.Kind + ' ' + $Since.ToString('o'); Until = [string]$Until.Kind + ' ' + $Until.ToString('o') }",
      '}',
      'function Get-EXOCASMailbox {',
      '  [CmdletBinding()] param([object]$ResultSize)',
      "  [pscustomobject]@{ PrimarySmtpAddress = 'a@contoso.com'; SmtpClientAuthenticationDisabled = $null; When = [datetime]::new(2026, 3, 1, 8, 0, 0, [System.DateTimeKind]::Utc); Count = 3 }",
      "  Write-Warning 'There are more results available'",
      "  $PSCmdlet.WriteError([System.Management.Automation.ErrorRecord]::new([System.Exception]::new('Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|b@contoso.com was not found'), 'NotFound', 'ObjectNotFound', 'b@contoso.com'))",
      "  [pscustomobject]@{ PrimarySmtpAddress = 'c@contoso.com'; SmtpClientAuthenticationDisabled = $false; When = $null; Count = 4 }",
      '}',
      'function Set-CASMailbox {',
      '  [CmdletBinding()] param([Parameter(Mandatory)][string]$Identity, [object]$SmtpClientAuthenticationDisabled, [switch]$Confirm)',
      "  [pscustomobject]@{ Identity = $Identity; Bound = $PSBoundParameters.ContainsKey('SmtpClientAuthenticationDisabled'); IsNull = $null -eq $SmtpClientAuthenticationDisabled",
      "    Confirm = [bool]$Confirm; ConfirmBound = $PSBoundParameters.ContainsKey('Confirm') }",
      '}',
      'function Get-TransportConfig {',
      '  [CmdletBinding()] param()',
      "  'before the failure'",
      "  $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new('gone'), 'Gone', 'InvalidOperation', 'Transport'))",
      '}',
    ]);
    const token = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    // A host west of UTC: a date that is not bound as Kind Utc would show it.
    const env = (cache: string) => ({ XDG_CACHE_HOME: cache, PSModulePath: modulePath(modules), TZ: 'America/New_York' });
    const scenario = [
      { type: 'hello', token, module: 'ExchangeOnlineManagement' },
      'not json at all',
      { type: 'invoke', id: 1, cmdlet: 'Remove-Mailbox', parameters: { Identity: 'a@contoso.com' } },
      { type: 'invoke', id: 2, cmdlet: 'Get-User', parameters: {} },
      {
        type: 'invoke',
        id: 3,
        cmdlet: 'Connect-ExchangeOnline',
        parameters: {
          Organization: '2026-03-01T08:00:00Z',
          CertificatePassword: { $secureString: 'pa$$ w0rd' },
          Scopes: ['a', 'b'],
          Extra: { x: 1 },
          Count: 5,
          Big: 50000000000,
          Ratio: 1.5,
          Empty: [],
          Since: { $dateTimeUtc: '2026-03-01T08:00:00.250Z' },
          Until: { $dateTimeUtc: '2026-03-01T09:00:00+01:00' },
        },
      },
      { type: 'invoke', id: 4, cmdlet: 'Get-EXOCASMailbox', parameters: { ResultSize: 'Unlimited' }, select: ['PrimarySmtpAddress', 'SmtpClientAuthenticationDisabled', 'When'] },
      { type: 'invoke', id: 5, cmdlet: 'Get-EXOCASMailbox', parameters: { ResultSize: 'Unlimited' } },
      { type: 'invoke', id: 6, cmdlet: 'Set-CASMailbox', parameters: { Identity: 'a@contoso.com', SmtpClientAuthenticationDisabled: null } },
      { type: 'invoke', id: 7, cmdlet: 'Set-CASMailbox', parameters: { Identity: 'a@contoso.com', NoSuchParameter: 1 } },
      { type: 'invoke', id: 8, cmdlet: 'Get-TransportConfig', parameters: {} },
      { type: 'quit' },
    ];
    // A cache of its own: the first host (PowerShell loop) compiles host-writer.cs at its first "select".
    const cache = tempDir('parity-cache');
    const compiling = await talkToHost(token, scenario, env(cache));
    expect(compiling.protocol[0]).toMatchObject({ type: 'ready', host: 'powershell' });
    const compiled = await talkToHost(token, scenario, env(cache));
    // No cache folder at all: the PowerShell loop and its PowerShell conversions serve throughout.
    const noCache = tempDir('parity-nocache');
    writeFileSync(join(noCache, 'exo-playbook'), 'not a folder');
    const plain = await talkToHost(token, scenario, env(noCache));

    expect(compiled.protocol[0]).toMatchObject({ type: 'ready', host: 'compiled', module: 'ExchangeOnlineManagement' });
    expect(plain.protocol[0]).toMatchObject({ type: 'ready', host: 'powershell' });
    expect(plain.stderr).toContain('the compiled object writer is unavailable, converting in PowerShell');
    expect([compiled.exitCode, plain.exitCode, compiling.exitCode]).toEqual([0, 0, 0]);
    for (const run of [compiled, plain, compiling]) expect(run.stderr).toContain('ignored a line that is not a request');
    // Line for line the same answers, whichever loop served.
    expect(compiled.protocol.slice(1)).toEqual(plain.protocol.slice(1));
    expect(compiling.protocol.slice(1)).toEqual(plain.protocol.slice(1));

    const byId = (id: number) => compiled.protocol.filter((m) => m.id === id);
    expect(byId(1)).toEqual([{ id: 1, type: 'end', ok: false, record: expect.objectContaining({ exceptionType: 'ExoPlaybook.Host.CmdletNotAllowed', fullyQualifiedErrorId: 'CmdletNotAllowed', target: null }) }]);
    expect(byId(2)).toEqual([{ id: 2, type: 'end', ok: false, record: expect.objectContaining({ exceptionType: 'ExoPlaybook.Host.CmdletNotFound' }) }]);
    // Bound from data: a SecureString, string[], a dictionary, int / long / double, an empty list, a
    // date-like string that stays a string, and {$dateTimeUtc} as a DateTime of Kind Utc (an offset
    // turned into the UTC instant), into [object] and [datetime] alike.
    expect(byId(3)).toEqual([
      {
        id: 3,
        type: 'objects',
        data: [
          {
            PasswordMatches: true,
            Scopes: 'String[]',
            Extra: 'OrderedDictionary',
            ExtraX: 1,
            Count: 'Int32',
            Big: 'Int64',
            Ratio: 'Double',
            Empty: 'Object[]',
            When: '2026-03-01T08:00:00Z',
            Since: 'DateTime Utc 2026-03-01T08:00:00.2500000Z',
            Until: 'Utc 2026-03-01T08:00:00.0000000Z',
          },
        ],
      },
      { id: 3, type: 'end', ok: true },
    ]);
    // Objects, warning and error in the order the cmdlet wrote them; select keeps only what was named.
    expect(byId(4).map((m) => m.type)).toEqual(['objects', 'warning', 'error', 'objects', 'end']);
    expect(byId(4)[0]!.data).toEqual([{ PrimarySmtpAddress: 'a@contoso.com', SmtpClientAuthenticationDisabled: null, When: '2026-03-01T08:00:00.000Z' }]);
    expect(byId(4)[2]!.record).toEqual({
      exceptionType: 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
      fullyQualifiedErrorId: 'NotFound,Get-EXOCASMailbox',
      message: 'b@contoso.com was not found',
      target: 'b@contoso.com',
      category: 'ObjectNotFound',
      code: 'Ex6F9304',
    });
    expect(byId(5)[0]!.data).toEqual([{ PrimarySmtpAddress: 'a@contoso.com', SmtpClientAuthenticationDisabled: null, When: '2026-03-01T08:00:00.000Z', Count: 3 }]);
    // An explicit $null is bound as $null, and a Set- gets -Confirm:$false.
    expect(byId(6)[0]!.data).toEqual([{ Identity: 'a@contoso.com', Bound: true, IsNull: true, Confirm: false, ConfirmBound: true }]);
    expect(byId(7).at(-1)).toMatchObject({ type: 'end', ok: false, record: { message: expect.stringContaining('NoSuchParameter') } });
    // A terminating error: what came before it, then the failed end with the cmdlet's own record.
    expect(byId(8)).toEqual([
      { id: 8, type: 'objects', data: ['before the failure'] },
      { id: 8, type: 'end', ok: false, record: { exceptionType: 'System.InvalidOperationException', fullyQualifiedErrorId: 'Gone,Get-TransportConfig', message: 'gone', target: 'Transport', category: 'InvalidOperation' } },
    ]);
    // A module that cannot be imported: the same "fatal" line from both, and exit code 3.
    const missing = [{ type: 'hello', token, module: 'NoSuchModuleAnywhere' }, { type: 'quit' }];
    const [compiledFatal, plainFatal] = [await talkToHost(token, missing, env(cache)), await talkToHost(token, missing, env(noCache))];
    expect([compiledFatal.exitCode, plainFatal.exitCode]).toEqual([3, 3]);
    expect(compiledFatal.protocol).toEqual(plainFatal.protocol);
    expect(compiledFatal.protocol).toEqual([{ type: 'fatal', record: expect.objectContaining({ fullyQualifiedErrorId: expect.stringContaining('Modules_ModuleNotFound') }) }]);
  }); // one compile (1.5-3 s idle, several times that on a loaded 2-core machine) and five hosts

  it('the compiled loop ends its process when stdin closes without "quit", even in the middle of a cmdlet', async () => {
    const modules = standInModule('stdin', [
      'function Get-TransportConfig { [CmdletBinding()] param() Start-Sleep -Seconds 3600 }',
      'function Get-EXOCASMailbox { [CmdletBinding()] param() [pscustomobject]@{ Name = 1 } }',
    ]);
    const token = 'dead0000dead0000dead0000dead0000';
    const cache = tempDir('stdin-cache');
    const env = { XDG_CACHE_HOME: cache, PSModulePath: modulePath(modules) };
    // The first host compiles host-writer.cs into this cache (at its first "select").
    const hello = { type: 'hello', token, module: 'ExchangeOnlineManagement' };
    await talkToHost(token, [hello, { type: 'invoke', id: 1, cmdlet: 'Get-EXOCASMailbox', parameters: {}, select: ['Name'] }, { type: 'quit' }], env);
    const child = spawn(pwshPath!, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', hostScriptPath], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.write(`${JSON.stringify(hello)}\n${JSON.stringify({ type: 'invoke', id: 2, cmdlet: 'Get-TransportConfig', parameters: {} })}\n`);
    await until(() => stdout.includes('"type":"ready"'), 'the host\'s "ready" line');
    expect(stdout).toContain('"host":"compiled"');
    // The cmdlet sleeps for an hour; the process ends when stdin closes, long before.
    await new Promise((r) => setTimeout(r, 500));
    child.stdin.end();
    let code: number | null;
    try {
      code = await within(exited, 'the host to end after its stdin closed (its cmdlet sleeps for an hour)', 240_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // not left behind when it failed
    }
    expect(code).not.toBe(0);
    expect(stdout).not.toContain('"id":2');
  });

  it('sends the objects a cmdlet wrote before a terminating error, then the failed end, with select and without', async () => {
    const modules = standInModule('failmod', [
      'function Get-EXOCASMailbox {',
      '  [CmdletBinding()] param([object]$ResultSize)',
      '  for ($i = 0; $i -lt 3; $i++) { [pscustomobject]@{ PrimarySmtpAddress = "u$i@contoso.com" } }',
      "  $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new([System.InvalidOperationException]::new('gone mid-read'), 'Gone', 'InvalidOperation', $null))",
      '}',
    ]);
    // One host, both requests: with select (id 4), then without (id 5) after the first one failed.
    const token = 'abad1deaabad1deaabad1deaabad1dea';
    const selects = [['PrimarySmtpAddress'], undefined];
    const { protocol } = await talkToHost(
      token,
      [
        { type: 'hello', token, module: 'ExchangeOnlineManagement' },
        ...selects.map((select, i) => ({ type: 'invoke', id: 4 + i, cmdlet: 'Get-EXOCASMailbox', parameters: { ResultSize: 'Unlimited' }, ...(select ? { select } : {}) })),
        { type: 'quit' },
      ],
      { PSModulePath: modulePath(modules) },
    );
    selects.forEach((select, i) => {
      const request = protocol.filter((m) => m.id === 4 + i);
      expect(request.flatMap((m) => (m.type === 'objects' ? m.data!.map((o) => o.PrimarySmtpAddress) : [])), String(select)).toEqual(['u0@contoso.com', 'u1@contoso.com', 'u2@contoso.com']);
      expect(request.at(-1), String(select)).toMatchObject({ type: 'end', ok: false, record: { message: 'gone mid-read' } });
    });
  });
});
