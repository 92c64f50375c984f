// A thin command-line host for the PowerShell engine (System.Management.Automation 7.6).
// Built by scripts/ensure-pwsh.mjs only when no real `pwsh` can be installed on the machine (the
// package mirror lacks the PowerShell global tool). It accepts the subset of pwsh's command line that
// exo-playbook uses: -NoLogo -NoProfile -NonInteractive, -File <script> [args...], -Command <text>,
// -Version. It has no Microsoft.PowerShell.Utility/Management modules: our PowerShell code uses only
// the core language and .NET APIs so it behaves the same here and on a real pwsh.
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;
using System.Text;

namespace ExoPlaybook.PwshHost;

internal static class Program
{
    private static int Main(string[] argv)
    {
        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        Console.InputEncoding = utf8;
        Console.OutputEncoding = utf8;

        string? file = null;
        string? command = null;
        var scriptArgs = new List<string>();
        for (var i = 0; i < argv.Length; i++)
        {
            var a = argv[i];
            var name = a.StartsWith("--", StringComparison.Ordinal) ? a[2..] : a.StartsWith('-') ? a[1..] : null;
            switch (name?.ToLowerInvariant())
            {
                case "nologo": case "noprofile": case "noninteractive": case "nop": case "noni": case "nol":
                    continue;
                case "version": case "v":
                    Console.Out.WriteLine($"PowerShell {PowerShellVersion()}");
                    return 0;
                case "executionpolicy": case "ep": case "outputformat": case "of": case "inputformat": case "if":
                    i++; // value ignored: the engine host has no execution policy and prints text only
                    continue;
                case "file": case "f":
                    if (i + 1 >= argv.Length) return Usage("-File needs a script path");
                    file = argv[++i];
                    scriptArgs.AddRange(argv[(i + 1)..]);
                    i = argv.Length;
                    continue;
                case "command": case "c":
                    command = string.Join(' ', argv[(i + 1)..]);
                    i = argv.Length;
                    continue;
                default:
                    // pwsh treats a first bare argument as the -File path.
                    if (name is null && file is null && command is null)
                    {
                        file = a;
                        scriptArgs.AddRange(argv[(i + 1)..]);
                        i = argv.Length;
                        continue;
                    }
                    return Usage($"unsupported argument '{a}'");
            }
        }
        if (file is null && command is null) return Usage("nothing to run: give -File or -Command");
        return Run(file, command, scriptArgs);
    }

    private static string PowerShellVersion() =>
        typeof(PSObject).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>()
            .Select(v => v.InformationalVersion.Split('+', ' ')[0])
            .FirstOrDefault() ?? "7.6";

    private static int Usage(string why)
    {
        Console.Error.WriteLine($"pwsh (exo-playbook engine host): {why}");
        Console.Error.WriteLine("usage: pwsh [-NoLogo] [-NoProfile] [-NonInteractive] (-File <script> [args...] | -Command <text> | -Version)");
        return 64;
    }

    private static int Run(string? file, string? command, List<string> scriptArgs)
    {
        var host = new ExitCapturingHost();
        var iss = InitialSessionState.CreateDefault2();
        using var runspace = RunspaceFactory.CreateRunspace(host, iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;

        if (file is not null)
        {
            var path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"The argument '{file}' is not recognized as the name of a script file.");
                return 64;
            }
            ps.AddCommand(path);
            foreach (var arg in scriptArgs) ps.AddArgument(arg);
        }
        else
        {
            ps.AddScript(command!);
        }

        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (_, e) => Console.Out.WriteLine(output[e.Index]?.ToString() ?? string.Empty);
        ps.Streams.Error.DataAdded += (_, e) => Console.Error.WriteLine(ps.Streams.Error[e.Index].ToString());
        ps.Streams.Warning.DataAdded += (_, e) => Console.Error.WriteLine("WARNING: " + ps.Streams.Warning[e.Index].Message);

        var failed = false;
        try
        {
            ps.Invoke(null, output);
            failed = ps.HadErrors && ps.InvocationStateInfo.State == PSInvocationState.Failed;
        }
        catch (RuntimeException ex)
        {
            Console.Error.WriteLine(ex.ErrorRecord?.ToString() ?? ex.Message);
            failed = true;
        }
        Console.Out.Flush();

        if (host.ExitCode is int code) return code;
        // `exit N` inside a script run with `&` sets $LASTEXITCODE instead of asking the host to exit.
        var last = runspace.SessionStateProxy.GetVariable("LASTEXITCODE");
        if (last is int lastCode && file is not null) return lastCode;
        return failed ? 1 : 0;
    }
}

/// <summary>Records `exit N` (SetShouldExit); everything interactive is refused as pwsh -NonInteractive would.</summary>
internal sealed class ExitCapturingHost : PSHost
{
    public int? ExitCode { get; private set; }
    public override string Name => "exo-playbook-engine-host";
    public override Version Version => new(7, 6);
    public override Guid InstanceId { get; } = Guid.NewGuid();
    public override PSHostUserInterface? UI => null;
    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;
    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;
    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
    public override void EnterNestedPrompt() => throw new NotSupportedException("non-interactive host");
    public override void ExitNestedPrompt() => throw new NotSupportedException("non-interactive host");
    public override void NotifyBeginApplication() { }
    public override void NotifyEndApplication() { }
}
