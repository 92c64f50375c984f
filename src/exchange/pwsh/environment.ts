/**
 * The environment PowerShell runs with: an allowlist, never the CLI's whole environment. The CLI's
 * environment holds secrets the run never hands to PowerShell (a client secret, a certificate
 * password, a webhook URL, a token); secrets PowerShell needs travel over stdin as call parameters.
 */
import { delimiter } from 'node:path';

/** Passed through by exact name. */
const NAMES = new Set([
  // Finding programs, the user's profile folders, temp files.
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
  'TEMP',
  'TMP',
  // Locale and time zone (dates are converted to UTC, but .NET reads TZ for local time).
  'LANG',
  'LANGUAGE',
  'TZ',
  // Where PowerShell looks for modules and keeps its own files (XDG on Linux and macOS).
  'PSModulePath',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  // ExchangeOnlineManagement talks HTTPS to Exchange Online and Entra ID: a proxy and the CA bundle
  // a TLS-inspecting proxy needs (.NET on Linux reads SSL_CERT_FILE/SSL_CERT_DIR through OpenSSL).
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Windows: what PowerShell and .NET need to start there.
  'SystemRoot',
  'SYSTEMROOT',
  'windir',
  'ComSpec',
  'PATHEXT',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'ProgramData',
  'ProgramFiles',
  // The test stub's per-organization state folder (test/fixtures/modules; `sim init-fleet`).
  'EXO_STUB_STATE_DIR',
]);

/**
 * Passed through by prefix: the locale (LC_*), the .NET host (DOTNET_ROOT, DOTNET_ROOT_X64,
 * DOTNET_CLI_TELEMETRY_OPTOUT…, what `dotnet pwsh.dll` needs to find its runtime), and the test stub's
 * own knobs (EXO_PLAYBOOK_STUB_STATE, EXO_PLAYBOOK_STUB_CALLS: test/fixtures/modules).
 */
const PREFIXES = ['LC_', 'DOTNET_', 'EXO_PLAYBOOK_STUB_'];

/** Set for every host: no colour codes, no telemetry or update check over the network at start. */
const FIXED = { NO_COLOR: '1', POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' };

/**
 * Set unless the CLI's environment sets them. DOTNET_TieredPGO=0 turns off .NET's dynamic
 * profile-guided optimisation (a runtime knob, on by default since .NET 8: learn.microsoft.com
 * /dotnet/core/runtime-config/compilation, "Profile-guided optimization"): its
 * instrumented first tier costs PowerShell about 0.9 s of CPU in a run of this size (a third of it)
 * and the run is too short to win it back (docs/PERFORMANCE.md, "apply"). DOTNET_gcConcurrent=0 turns
 * off background garbage collection (learn.microsoft.com/dotnet/core/runtime-config/garbage-collector,
 * "Background GC"), which keeps an extra GC thread to shorten pauses in interactive programs; a host
 * serves one request at a time, and without it a host spends about 12% less CPU for the same work
 * (a plan of 500 mailboxes 0.96 → 0.85 CPU-s, of 30,000 2.4 → 2.1, CLI included; docs/PERFORMANCE.md).
 */
const DEFAULTS = { DOTNET_TieredPGO: '0', DOTNET_gcConcurrent: '0' };

export function isAllowedName(name: string): boolean {
  return NAMES.has(name) || PREFIXES.some((prefix) => name.startsWith(prefix));
}

export interface PwshEnvironmentOptions {
  /** Where the allowlisted variables are taken from (the CLI's environment). */
  base: NodeJS.ProcessEnv;
  /** Set explicitly by the caller (tests: the stub's state file); over the allowlisted ones. */
  extra?: Record<string, string>;
  /** Never passed, even when allowlisted: variables that hold the run's own secrets. */
  withheld?: readonly string[];
  /** Put in front of PSModulePath. */
  modulePaths?: readonly string[];
}

export function pwshEnvironment(options: PwshEnvironmentOptions): Record<string, string> {
  const withheld = new Set(options.withheld ?? []);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.base)) {
    if (value !== undefined && isAllowedName(name) && !withheld.has(name)) env[name] = value;
  }
  for (const [name, value] of Object.entries(options.extra ?? {})) if (!withheld.has(name)) env[name] = value;
  const inherited = env.PSModulePath ?? '';
  const modulePath = [...(options.modulePaths ?? []), ...(inherited ? [inherited] : [])].join(delimiter);
  if (modulePath) env.PSModulePath = modulePath;
  else delete env.PSModulePath;
  return { ...DEFAULTS, ...env, ...FIXED };
}
