# What an admin would write by hand to reach the end state the bench's playbook reaches (org switch
# off, every stray explicit $false back to $null, the allowlist at $false), then one verify read.
# scripts/bench.mjs times it against `exo-playbook apply` on the same stub module and tenant.
param([Parameter(Mandatory)][string[]]$Allowlist)
$ErrorActionPreference = 'Stop'
Import-Module ExchangeOnlineManagement
Connect-ExchangeOnline -AccessToken $env:EXO_TOKEN -Organization contoso.onmicrosoft.com -ShowBanner:$false
$allow = [System.Collections.Generic.HashSet[string]]::new([string[]]$Allowlist, [System.StringComparer]::OrdinalIgnoreCase)
$mailboxes = Get-EXOCASMailbox -ResultSize Unlimited -Properties SmtpClientAuthenticationDisabled
Set-TransportConfig -SmtpClientAuthenticationDisabled $true
foreach ($m in $mailboxes) {
  if ($allow.Contains($m.PrimarySmtpAddress)) {
    if ($m.SmtpClientAuthenticationDisabled -ne $false) { Set-CASMailbox -Identity $m.PrimarySmtpAddress -SmtpClientAuthenticationDisabled $false }
  }
  elseif ($m.SmtpClientAuthenticationDisabled -eq $false) { Set-CASMailbox -Identity $m.PrimarySmtpAddress -SmtpClientAuthenticationDisabled $null }
}
$wrong = 0
Get-EXOCASMailbox -ResultSize Unlimited -Properties SmtpClientAuthenticationDisabled | ForEach-Object {
  $want = if ($allow.Contains($_.PrimarySmtpAddress)) { $false } else { $null }
  if ($_.SmtpClientAuthenticationDisabled -ne $want -and -not ($null -eq $want -and $_.SmtpClientAuthenticationDisabled -eq $true)) { $wrong++ }
}
Disconnect-ExchangeOnline -Confirm:$false
"wrong=$wrong"
