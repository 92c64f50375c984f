# exo-playbook's PowerShell side of the bridge (docs/PWSH-BRIDGE.md).
#
# One long-lived process per session. Requests arrive as JSON lines on stdin; every response is one
# line "<token> <json>" on stdout, where <token> is a random value the session sends in its first
# ("hello") line. Anything else a module prints to the console lacks the token and is ignored by the
# session, so banners and stray writes cannot corrupt the protocol.
#
# Parameters are bound from data by splatting a hashtable; no user value is ever pasted into script
# text. JSON is read with System.Text.Json (ConvertFrom-Json would turn a date-like string into a
# DateTime, and an identity is data, not a date) and written with Newtonsoft.Json (both ship with
# PowerShell 7.6; Newtonsoft is several times faster than ConvertTo-Json on a bulk read).
#
# Scope: when pwsh runs a script with -File, the script's scope IS the global scope, and a module's
# functions see the global preferences. So the host sets only the preferences meant for every
# command (no prompts, no progress, plain text) globally; its own strictness lives in the child scope
# below, so the module runs with PowerShell's defaults (ErrorActionPreference Continue: a service
# error stays the non-terminating error record the module writes).
#
# Lifetime: a reader thread owns stdin. When stdin closes without a "quit" line first, the session's
# process is gone (crashed, killed with SIGKILL): the host kills itself at once, even in the middle of
# a cmdlet, so no PowerShell outlives the exo-playbook that started it.
#
# -WriterKey: the first 16 hex digits of the SHA-256 of host-writer.cs, computed by the session (a
# SHA-256 here costs 10-20 ms at start); computed here when absent or malformed.
param([string]$WriterKey)

$global:ConfirmPreference = 'None'
$global:ProgressPreference = 'SilentlyContinue'
$global:InformationPreference = 'SilentlyContinue'
$PSStyle.OutputRendering = 'PlainText'
$utf8 = [System.Text.UTF8Encoding]::new($false)
[Console]::InputEncoding = $utf8
[Console]::OutputEncoding = $utf8

# The host's own copy of ALLOWED_CMDLETS (src/exchange/session.ts): it refuses anything else itself.
$script:AllowedCmdlets = [System.Collections.Generic.HashSet[string]]::new(
  [string[]]@(
    'Connect-ExchangeOnline', 'Disconnect-ExchangeOnline', 'Get-TransportConfig', 'Set-TransportConfig',
    'Get-CASMailbox', 'Get-EXOCASMailbox', 'Set-CASMailbox', 'Get-Mailbox', 'Get-EXOMailbox',
    'Start-HistoricalSearch', 'Get-HistoricalSearch', 'Stop-HistoricalSearch',
    'Get-AuthenticationPolicy', 'Get-OrganizationConfig', 'Get-User',
    'New-ServicePrincipal', 'Get-ServicePrincipal', 'Remove-ServicePrincipal', 'New-ManagementScope', 'Get-ManagementScope',
    'Remove-ManagementScope', 'New-ManagementRoleAssignment', 'Get-ManagementRoleAssignment', 'Remove-ManagementRoleAssignment',
    'Add-MailboxPermission', 'Get-MailboxPermission', 'Remove-MailboxPermission'),
  [System.StringComparer]::OrdinalIgnoreCase)
# Objects per "objects" line, and the longest an object waits for its batch while more arrive.
$script:BatchSize = 256
$script:BatchMs = 50

# --- the compiled host (host-writer.cs) -----------------------------------------------------------------
# Compiled once per machine into the user's cache folder, named by the hash of its source and the
# PowerShell version. When it is there and can be trusted, it serves every request (ExoPlaybook.Host.
# Server) and the PowerShell loop further down never runs: PowerShell compiles a function at its first
# call, and the loop's functions cost the first requests of every host about 0.15 s. When it is not (the
# first host on a machine, no cache folder, a file others may write, a damaged file), the PowerShell loop
# serves, and compiles it at its first request with a "select" for the next host.
$script:WriterState = 'not loaded'   # 'loaded', or 'unavailable' once it failed
$script:WriterDll = $null
$script:CacheRoot = if ($env:XDG_CACHE_HOME) { [System.IO.Path]::Combine($env:XDG_CACHE_HOME, 'exo-playbook') }
elseif ($IsWindows -and $env:LOCALAPPDATA) { [System.IO.Path]::Combine($env:LOCALAPPDATA, 'exo-playbook', 'cache') }
elseif ($env:HOME) { [System.IO.Path]::Combine($env:HOME, '.cache', 'exo-playbook') }
if ($script:CacheRoot) {
  if ($WriterKey -cnotmatch '^[0-9a-f]{16}$') {
    $WriterKey = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData(
        [System.IO.File]::ReadAllBytes([System.IO.Path]::Combine($PSScriptRoot, 'host-writer.cs')))).Substring(0, 16).ToLowerInvariant()
  }
  $script:WriterDll = [System.IO.Path]::Combine($script:CacheRoot, "host-writer-$WriterKey-$($PSVersionTable.PSVersion).dll")
}

# Loading a file runs its code in the signed-in host: on Unix, a folder or file that someone other than
# its owner may write (group or others) is not trusted. A cached file that does not load (damaged) is
# removed, so the next host compiles it again. (Inline, not a function: PowerShell compiles a function at
# its first call, and this runs at every start. Import-ObjectWriter below does the same after compiling.)
if ($script:WriterDll -and [System.IO.File]::Exists($script:WriterDll)) {
  try {
    if (-not $IsWindows) {
      $loose = [System.IO.UnixFileMode]::GroupWrite -bor [System.IO.UnixFileMode]::OtherWrite
      foreach ($path in @($script:CacheRoot, $script:WriterDll)) {
        if ([System.IO.File]::GetUnixFileMode($path) -band $loose) { throw "the cache $path may be written by other users (chmod go-w to use it)" }
      }
    }
    try { $null = [System.Reflection.Assembly]::LoadFrom($script:WriterDll) } catch { [System.IO.File]::Delete($script:WriterDll); throw }
    $script:WriterState = 'loaded'
  }
  catch {
    $script:WriterState = 'unavailable'
    [Console]::Error.WriteLine("exo-playbook host: the compiled object writer is unavailable, converting in PowerShell: $($_.Exception.Message)")
  }
}
# Loaded: it runs the host from here (hello, module, requests) and returns the exit code. Environment.Exit,
# not exit: its reader thread may still be blocked on stdin.
if ($script:WriterState -eq 'loaded') {
  [Environment]::Exit([ExoPlaybook.Host.Server]::Run($ExecutionContext, $PSVersionTable.PSVersion.ToString(), $script:AllowedCmdlets, $script:BatchSize, $script:BatchMs))
}

# --- the PowerShell loop -------------------------------------------------------------------------------
& {
Set-StrictMode -Version 3.0

$script:Token = $null
# Our own writer on fd 1, not [Console]::Out: that one has a 256-character buffer and flushes every
# write, so a 64 KB batch line left the host as 256 write(2) calls (a wake-up of the session each).
# Every response is flushed at its end, so nothing waits in this buffer while a module runs (a module's
# own console output still goes through [Console]::Out, between whole lines).
$script:Stdout = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), $utf8, 65536)
$script:Stdout.AutoFlush = $false
$script:MaxDepth = 4

# Objects per "objects" line, and the longest an object waits for its batch while more arrive.
$script:BatchSize = 256
$script:BatchMs = 50

# --- compiled writer for the PowerShell loop ------------------------------------------------------------
# A bulk read converts every object; in PowerShell that is a script block, a dictionary and a dozen type
# tests per object, more than the module's own work. host-writer.cs does the same conversion in C#.
# Compiling costs 1.5-3 s, so it happens once per machine, at the first request that has a "select"
# (never at start): the assembly is cached (see the top of this file), and later hosts load it at start
# and serve every request through it. When it cannot be compiled or loaded, the PowerShell path below
# serves every request as before (and the host says why on stderr).
function Import-ObjectWriter {
  if ($script:WriterState -ne 'not loaded') { return $script:WriterState -eq 'loaded' }
  $script:WriterState = 'unavailable'
  try {
    $folder = $script:CacheRoot
    if (-not $folder) { throw 'no cache folder (neither XDG_CACHE_HOME, LOCALAPPDATA nor HOME is set)' }
    if ($IsWindows) { $null = [System.IO.Directory]::CreateDirectory($folder) }
    else { $null = [System.IO.Directory]::CreateDirectory($folder, [System.IO.UnixFileMode]'UserRead, UserWrite, UserExecute') }
    # Named by the hash of the very text compiled (the file may have changed since the session hashed it).
    $bytes = [System.IO.File]::ReadAllBytes([System.IO.Path]::Combine($PSScriptRoot, 'host-writer.cs'))
    $key = [System.Convert]::ToHexString([System.Security.Cryptography.SHA256]::HashData($bytes)).Substring(0, 16).ToLowerInvariant()
    $script:WriterDll = [System.IO.Path]::Combine($folder, "host-writer-$key-$($PSVersionTable.PSVersion).dll")
    # Compiled beside its final name, then renamed: hosts compiling at once never load a partial file.
    $temp = [System.IO.Path]::Combine($folder, "host-writer.$PID.tmp.dll")
    try {
      # -IgnoreWarnings: Newtonsoft.Json names an older System.Runtime (warning CS1701, harmless).
      # Beyond Add-Type's defaults: Newtonsoft.Json and PowerShell itself by path, the framework's by name
      # (Add-Type finds those among the reference assemblies PowerShell ships).
      $references = @([Newtonsoft.Json.JsonConvert].Assembly.Location, [psobject].Assembly.Location, 'System.Collections', 'System.Collections.Concurrent',
        'System.Collections.Specialized', 'System.Text.Json', 'System.Net.Primitives', 'System.Text.RegularExpressions', 'System.Threading',
        'System.Threading.Thread', 'System.Diagnostics.Process', 'System.ComponentModel.Primitives', 'System.Console', 'System.Memory', 'System.Text.Encoding.Extensions')
      Add-Type -TypeDefinition $utf8.GetString($bytes) -ReferencedAssemblies $references `
        -OutputAssembly $temp -OutputType Library -IgnoreWarnings -ErrorAction Stop
      # Owner-only, whatever the umask: the check at load refuses a file others may write.
      if (-not $IsWindows) { [System.IO.File]::SetUnixFileMode($temp, [System.IO.UnixFileMode]'UserRead, UserWrite') }
      try { [System.IO.File]::Move($temp, $script:WriterDll, $false) } catch [System.IO.IOException] { }
    }
    finally { [System.IO.File]::Delete($temp) }
    # The same trust check as at start (the file was just written owner-only; the folder may not be).
    if (-not $IsWindows) {
      $loose = [System.IO.UnixFileMode]::GroupWrite -bor [System.IO.UnixFileMode]::OtherWrite
      foreach ($path in @($folder, $script:WriterDll)) {
        if ([System.IO.File]::GetUnixFileMode($path) -band $loose) { throw "the cache $path may be written by other users (chmod go-w to use it)" }
      }
    }
    $assembly = [System.Reflection.Assembly]::LoadFrom($script:WriterDll)
    Import-Module -Assembly $assembly -ErrorAction Stop
    $script:WriterState = 'loaded'
    return $true
  }
  catch {
    [Console]::Error.WriteLine("exo-playbook host: the compiled object writer is unavailable, converting in PowerShell: $($_.Exception.Message)")
    return $false
  }
}

function Send-Batch([int]$Id, [System.Collections.Generic.List[object]]$Batch, [System.Diagnostics.Stopwatch]$Clock) {
  if ($Batch.Count -eq 0) { return }
  Send-Response ([ordered]@{ id = $Id; type = 'objects'; data = $Batch })
  $Batch.Clear()
  $Clock.Restart()
}

function Send-Response([System.Collections.IDictionary]$Message) {
  $json = [Newtonsoft.Json.JsonConvert]::SerializeObject($Message, [Newtonsoft.Json.Formatting]::None)
  $script:Stdout.WriteLine($script:Token + ' ' + $json)
  $script:Stdout.Flush()
}

# JSON (System.Text.Json element) → PowerShell value. Dates stay strings (System.Text.Json never guesses
# types; PowerShell converts an ISO string to a Kind Local [DateTime]) unless sent as {"$dateTimeUtc": ...}.
function ConvertFrom-JsonElement([System.Text.Json.JsonElement]$Element) {
  switch ($Element.ValueKind) {
    'Null' { return $null }
    'True' { return $true }
    'False' { return $false }
    'String' { return $Element.GetString() }
    'Number' {
      [int]$i = 0; [long]$l = 0
      if ($Element.TryGetInt32([ref]$i)) { return $i }
      if ($Element.TryGetInt64([ref]$l)) { return $l }
      return $Element.GetDouble()
    }
    'Array' {
      $items = [System.Collections.Generic.List[object]]::new()
      foreach ($child in $Element.EnumerateArray()) { $items.Add((ConvertFrom-JsonElement $child)) }
      # All strings → [string[]] so parameters typed string[] / MultiValuedProperty bind as they would
      # from a literal list.
      if ($items.Count -gt 0 -and -not ($items | Where-Object { $_ -isnot [string] })) { return , [string[]]$items.ToArray() }
      return , $items.ToArray()
    }
    'Object' {
      # {"$secureString": "..."} is how a SecureString parameter (-CertificatePassword) travels.
      $fields = @($Element.EnumerateObject())
      if ($fields.Count -eq 1 -and $fields[0].Name -eq '$secureString' -and $fields[0].Value.ValueKind -eq 'String') {
        return [System.Net.NetworkCredential]::new('', $fields[0].Value.GetString()).SecurePassword
      }
      # {"$certificateFromStore": "<CurrentUser|LocalMachine>/<40 hex>"}: a certificate with its private key
      # from the Windows store, for Connect-ExchangeOnline -Certificate (module-sign-in.ts). The value is
      # checked against its shape and used as a literal path, never as script text.
      if ($fields.Count -eq 1 -and $fields[0].Name -eq '$certificateFromStore' -and $fields[0].Value.ValueKind -eq 'String') {
        $ref = $fields[0].Value.GetString()
        if ($ref -cnotmatch '^(CurrentUser|LocalMachine)/([0-9A-F]{40})$') { throw "certificate reference is not <CurrentUser|LocalMachine>/<thumbprint>" }
        $cert = Get-Item -LiteralPath ('Cert:\' + $Matches[1] + '\My\' + $Matches[2]) -ErrorAction SilentlyContinue
        if (-not $cert) { throw "no certificate with thumbprint $($Matches[2]) in Cert:\$($Matches[1])\My" }
        if (-not $cert.HasPrivateKey) { throw "the certificate $($Matches[2]) in Cert:\$($Matches[1])\My has no private key this account can use" }
        return $cert
      }
      # {"$dateTimeUtc": "<ISO instant>"} is a DateTime of Kind Utc whatever this host's time zone (a bare
      # string would become Kind Local; src/exchange/utc-date-time.ts).
      if ($fields.Count -eq 1 -and $fields[0].Name -eq '$dateTimeUtc' -and $fields[0].Value.ValueKind -eq 'String') {
        return [System.DateTimeOffset]::Parse($fields[0].Value.GetString(), [cultureinfo]::InvariantCulture,
          [System.Globalization.DateTimeStyles]::AssumeUniversal).UtcDateTime
      }
      $table = [ordered]@{}
      foreach ($prop in $Element.EnumerateObject()) { $table[$prop.Name] = ConvertFrom-JsonElement $prop.Value }
      return $table
    }
  }
  return $null
}

# PowerShell output → plain data: properties → JSON object, DateTime → ISO-8601 UTC, enums → string.
function ConvertTo-PlainData($Value, [int]$Depth = 0) {
  if ($null -eq $Value) { return $null }
  # Assigned in the branch, not `$base = if ...`: statement output would unroll a one-element array.
  $base = $Value
  if ($Value -is [psobject]) { $base = $Value.psobject.BaseObject }
  if ($null -eq $base) { return $null }
  if ($base -is [System.Management.Automation.PSCustomObject]) { return ConvertFrom-PropertyBag $Value $Depth }
  if ($base -is [string] -or $base -is [bool]) { return $base }
  if ($base -is [char] -or $base -is [guid] -or $base -is [enum] -or $base -is [version]) { return $base.ToString() }
  if ($base -is [datetime]) { return $base.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [cultureinfo]::InvariantCulture) }
  if ($base -is [datetimeoffset]) { return $base.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", [cultureinfo]::InvariantCulture) }
  if ($base -is [int] -or $base -is [long] -or $base -is [double] -or $base -is [short] -or $base -is [byte] -or
    $base -is [uint32] -or $base -is [uint64] -or $base -is [single] -or $base -is [decimal] -or $base -is [sbyte] -or $base -is [uint16]) { return $base }
  if ($base -is [timespan]) { return $base.ToString() }
  if ($base -is [securestring]) { return '[redacted]' }
  if ($Depth -ge $script:MaxDepth) { return $base.ToString() }
  if ($base -is [System.Collections.IDictionary]) {
    $table = [ordered]@{}
    foreach ($key in $base.Keys) { $table["$key"] = ConvertTo-PlainData $base[$key] ($Depth + 1) }
    return $table
  }
  if ($base -is [System.Collections.IEnumerable]) {
    $items = [System.Collections.Generic.List[object]]::new()
    foreach ($item in $base) { $items.Add((ConvertTo-PlainData $item ($Depth + 1))) }
    return , $items.ToArray()
  }
  return ConvertFrom-PropertyBag $Value $Depth
}

function ConvertFrom-PropertyBag($Value, [int]$Depth, [System.Collections.Generic.HashSet[string]]$Select) {
  if ($Depth -ge $script:MaxDepth) { return $Value.ToString() }
  $table = [System.Collections.Generic.Dictionary[string, object]]::new()
  foreach ($prop in $Value.psobject.Properties) {
    if (-not $prop.IsGettable -or ($null -ne $Select -and -not $Select.Contains($prop.Name))) { continue }
    # Assigned inside try, not `$x = try {...}`: that would unroll a one-element array into a scalar.
    $propValue = $null
    try { $propValue = $prop.Value } catch { $propValue = $null }
    # Fast path for the common plain values: a function call per property is the bulk of the cost
    # of a 100,000-mailbox read.
    if ($null -eq $propValue -or $propValue -is [string] -or $propValue -is [bool] -or $propValue -is [int] -or $propValue -is [string[]]) { $table[$prop.Name] = $propValue }
    else { $table[$prop.Name] = ConvertTo-PlainData $propValue ($Depth + 1) }
  }
  return $table
}

# The ExchangeOnlineManagement v3 REST cmdlets report service errors as "<code>|<exception type>|<text>"
# in the message (EXCHANGE-FACTS.md, observed). Split that so callers see the type and the plain text.
function ConvertTo-ErrorData([System.Management.Automation.ErrorRecord]$Record) {
  $exception = $Record.Exception
  $message = if ($Record.ErrorDetails -and $Record.ErrorDetails.Message) { $Record.ErrorDetails.Message } else { $exception.Message }
  $exceptionType = $exception.GetType().FullName
  $code = $null
  # The code may be empty: "|Microsoft.Exchange.Management.Tasks.RecipientTaskException|<text>".
  if ($message -match '^(?<code>[A-Za-z0-9]*)\|(?<type>[\w.]+)\|(?<text>[\s\S]*)$') {
    $exceptionType = $Matches['type']
    $message = $Matches['text']
    if ($Matches['code']) { $code = $Matches['code'] }
  }
  $target = if ($null -eq $Record.TargetObject) { $null } else { [string]$Record.TargetObject }
  $data = [ordered]@{
    exceptionType         = $exceptionType
    fullyQualifiedErrorId = [string]$Record.FullyQualifiedErrorId
    message               = $message
    target                = $target
    category              = $Record.CategoryInfo.Category.ToString()
  }
  if ($code) { $data['code'] = $code }
  return $data
}

function New-HostError([string]$Id, [string]$Message) {
  return [ordered]@{ exceptionType = 'ExoPlaybook.Host.' + $Id; fullyQualifiedErrorId = $Id; message = $Message; target = $null; category = 'InvalidOperation' }
}

function Invoke-Request([System.Text.Json.JsonElement]$Request) {
  $id = $Request.GetProperty('id').GetInt32()
  $name = $Request.GetProperty('cmdlet').GetString()
  if (-not $script:AllowedCmdlets.Contains($name)) {
    Send-Response ([ordered]@{ id = $id; type = 'end'; ok = $false; record = (New-HostError 'CmdletNotAllowed' "The cmdlet '$name' is not on exo-playbook's allowlist; the host refuses to run it.") })
    return
  }
  $command = $ExecutionContext.InvokeCommand.GetCommand($name, [System.Management.Automation.CommandTypes]'Function, Cmdlet')
  if ($null -eq $command) {
    Send-Response ([ordered]@{ id = $id; type = 'end'; ok = $false; record = (New-HostError 'CmdletNotFound' "The cmdlet '$name' is not available: is the module imported and connected?") })
    return
  }
  $parameters = @{}
  foreach ($field in $Request.EnumerateObject()) {
    if ($field.Name -ne 'parameters' -or $field.Value.ValueKind -ne 'Object') { continue }
    foreach ($prop in $field.Value.EnumerateObject()) { $parameters[$prop.Name] = ConvertFrom-JsonElement $prop.Value }
  }
  # Set-* never prompts, whatever the module's ConfirmImpact.
  if ($command.Parameters.ContainsKey('Confirm') -and -not $parameters.ContainsKey('Confirm')) { $parameters['Confirm'] = $false }

  # Only these properties of each output object are converted (the request's optional "select": the
  # caller names what it reads, e.g. a bulk read of 100,000 mailboxes that needs 8 of them).
  $select = $null
  foreach ($field in $Request.EnumerateObject()) {
    if ($field.Name -ne 'select' -or $field.Value.ValueKind -ne 'Array') { continue }
    $select = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
    foreach ($wanted in $field.Value.EnumerateArray()) { if ($wanted.ValueKind -eq 'String') { [void]$select.Add($wanted.GetString()) } }
  }
  $names = if ($null -ne $select) { [string[]]@($select) } else { $null }
  $batch = [System.Collections.Generic.List[object]]::new()
  $clock = [System.Diagnostics.Stopwatch]::StartNew()
  $writer = $null
  if ($null -ne $names -and (Import-ObjectWriter)) {
    $writer = [ExoPlaybook.Host.ObjectWriter]::new($script:Stdout, $script:Token, $id, $names, $script:BatchSize, $script:BatchMs)
  }

  # Non-terminating errors stay non-terminating (PowerShell's default, which the module sees too); a
  # request that wants them terminal passes ErrorAction = 'Stop'.
  $ErrorActionPreference = 'Continue'
  try {
    # 3>&1 2>&1: warnings and non-terminating errors join the output in the order they happen. Objects
    # travel in batches (one "objects" line per $script:BatchSize objects or $script:BatchMs ms); a
    # warning or error first sends the objects before it, so the order the session sees is the order
    # the cmdlet wrote. `& { process {} }`, not ForEach-Object: a third of the cost per object.
    if ($null -ne $writer) {
      # The compiled path: Send-ExoPlaybookObjects batches the objects; warnings and errors come back here.
      & $command @parameters 3>&1 2>&1 | Send-ExoPlaybookObjects -Writer $writer -OnRecord {
        param($record)
        if ($record -is [System.Management.Automation.WarningRecord]) { Send-Response ([ordered]@{ id = $id; type = 'warning'; message = $record.Message }) }
        else { Send-Response ([ordered]@{ id = $id; type = 'error'; record = (ConvertTo-ErrorData $record) }) }
      }
      $writer.Flush()
    }
    else {
    & $command @parameters 3>&1 2>&1 | & { process {
        $item = $_
        if ($item -is [System.Management.Automation.WarningRecord]) {
          Send-Batch $id $batch $clock
          Send-Response ([ordered]@{ id = $id; type = 'warning'; message = $item.Message })
        }
        elseif ($item -is [System.Management.Automation.ErrorRecord]) {
          Send-Batch $id $batch $clock
          Send-Response ([ordered]@{ id = $id; type = 'error'; record = (ConvertTo-ErrorData $item) })
        }
        else {
          if ($batch.Count -eq 0) { $clock.Restart() }
          $base = if ($null -eq $item) { $null } else { $item.psobject.BaseObject }
          if ($null -ne $names -and $base -is [System.Management.Automation.PSCustomObject]) {
            # Inline, no function call: by name, only the selected properties (the common bulk-read case).
            $table = [System.Collections.Generic.Dictionary[string, object]]::new()
            $props = $item.psobject.Properties
            foreach ($propName in $names) {
              $prop = $props[$propName]
              if ($null -eq $prop) { continue }
              $value = $prop.Value
              if ($null -eq $value -or $value -is [string] -or $value -is [bool] -or $value -is [int] -or $value -is [string[]]) { $table[$prop.Name] = $value }
              else { $table[$prop.Name] = ConvertTo-PlainData $value 1 }
            }
            $batch.Add($table)
          }
          elseif ($base -is [System.Management.Automation.PSCustomObject]) { $batch.Add((ConvertFrom-PropertyBag $item 0 $select)) }
          else { $batch.Add((ConvertTo-PlainData $item)) }
          if ($batch.Count -ge $script:BatchSize -or $clock.ElapsedMilliseconds -ge $script:BatchMs) { Send-Batch $id $batch $clock }
        }
      } }
    }
    Send-Batch $id $batch $clock
    Send-Response ([ordered]@{ id = $id; type = 'end'; ok = $true })
  }
  catch {
    $record = $_
    if ($record.Exception -is [System.Management.Automation.ActionPreferenceStopException] -and $record.Exception.ErrorRecord) {
      $record = $record.Exception.ErrorRecord
    }
    # The objects the cmdlet wrote before it failed still go out, before the end.
    try { if ($null -ne $writer) { $writer.Flush() } else { Send-Batch $id $batch $clock } } catch { }
    Send-Response ([ordered]@{ id = $id; type = 'end'; ok = $false; record = (ConvertTo-ErrorData $record) })
  }
}

# --- stdin reader ----------------------------------------------------------------------------------
# Its own runspace (a thread) reads stdin into $inbox, so the end of stdin is seen even while the main
# thread runs a cmdlet. Lines queued before the end are still served only when a "quit" came first.
$inbox = [System.Collections.Concurrent.BlockingCollection[string]]::new()
$reader = [powershell]::Create()
$null = $reader.AddScript({
    param($Inbox, $Stdin)
    $quit = $false
    while ($true) {
      $line = $Stdin.ReadLine()
      if ($null -eq $line) { break }
      if (-not $quit) {
        try {
          $document = [System.Text.Json.JsonDocument]::Parse($line)
          $type = [System.Text.Json.JsonElement]::new()
          $quit = $document.RootElement.ValueKind -eq 'Object' -and $document.RootElement.TryGetProperty('type', [ref]$type) -and
            $type.ValueKind -eq 'String' -and $type.GetString() -eq 'quit'
          $document.Dispose()
        }
        catch { $quit = $false }
      }
      $Inbox.Add($line)
    }
    $Inbox.CompleteAdding()
    # stdin closed without "quit": whoever started this host is gone. Nothing may outlive it.
    if (-not $quit) { [System.Diagnostics.Process]::GetCurrentProcess().Kill() }
  }).AddArgument($inbox).AddArgument([Console]::In)
$null = $reader.BeginInvoke()

function Read-Request {
  $line = $null
  # Take() ends (returns $false) once the reader has seen the end of stdin and the queue is empty.
  if ($inbox.TryTake([ref]$line, -1)) { return $line }
  return $null
}

# --- main loop -----------------------------------------------------------------------------------
$helloLine = Read-Request
if ($null -eq $helloLine) { [Environment]::Exit(2) }
$hello = [System.Text.Json.JsonDocument]::Parse($helloLine).RootElement
$script:Token = $hello.GetProperty('token').GetString()
$moduleName = $hello.GetProperty('module').GetString()
try {
  if ($moduleName) { Import-Module -Name $moduleName -ErrorAction Stop -DisableNameChecking }
  $loaded = if ($moduleName) { Get-Module -Name $moduleName } else { $null }
  Send-Response ([ordered]@{
      type          = 'ready'
      psVersion     = $PSVersionTable.PSVersion.ToString()
      module        = $moduleName
      moduleVersion = if ($loaded) { $loaded.Version.ToString() } else { $null }
      host          = 'powershell'
    })
}
catch {
  Send-Response ([ordered]@{ type = 'fatal'; record = (ConvertTo-ErrorData $_) })
  [Environment]::Exit(3)
}

while ($true) {
  $line = Read-Request
  if ($null -eq $line) { break }
  if ($line.Length -eq 0) { continue }
  try {
    $request = [System.Text.Json.JsonDocument]::Parse($line).RootElement
    $type = $request.GetProperty('type').GetString()
  }
  catch {
    # Not a request (the session never sends one like it): say so on stderr and keep serving.
    [Console]::Error.WriteLine("exo-playbook host: ignored a line that is not a request: $($_.Exception.Message)")
    continue
  }
  if ($type -eq 'quit') { break }
  if ($type -eq 'invoke') {
    try { Invoke-Request $request }
    catch {
      # A bug in the host itself: report it on the request rather than dying.
      $id = $request.GetProperty('id').GetInt32()
      Send-Response ([ordered]@{ id = $id; type = 'end'; ok = $false; record = (ConvertTo-ErrorData $_) })
    }
  }
}
}
# Environment.Exit, not exit: the reader thread may still be blocked on stdin.
[Environment]::Exit(0)
