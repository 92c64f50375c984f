// exo-playbook's compiled host (docs/PWSH-BRIDGE.md), loaded by host.ps1 from the user's cache folder:
// - ObjectWriter: output objects → one "objects" JSON line per batch (no script block, no intermediate
//   dictionary per object). Mirrors host.ps1's ConvertTo-PlainData / ConvertFrom-PropertyBag.
// - Server: the whole request loop (stdin reader, requests, invocation, responses), so that a host whose
//   compiled code is cached compiles nothing in PowerShell on its first requests. Mirrors host.ps1's
//   PowerShell loop (Invoke-Request, ConvertFrom-JsonElement, ConvertTo-ErrorData), which serves when
//   this file is not compiled yet or cannot be trusted.
using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Net;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using Newtonsoft.Json;

namespace ExoPlaybook.Host
{
    public sealed class ObjectWriter
    {
        public const int MaxDepth = 4;
        private const string DateFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
        private readonly TextWriter _out;
        private readonly string _token;
        private readonly int _id;
        private readonly string[] _select;
        private readonly int _batchSize;
        private readonly long _batchMs;
        private readonly StringBuilder _text = new StringBuilder(1 << 16);
        private readonly Stopwatch _clock = new Stopwatch();
        private JsonTextWriter _json;
        private int _count;

        public ObjectWriter(TextWriter output, string token, int id, string[] select, int batchSize, int batchMs)
        {
            _out = output; _token = token; _id = id; _select = select; _batchSize = batchSize; _batchMs = batchMs;
        }

        public int Pending { get { return _count; } }

        public void Add(object item)
        {
            if (_count == 0)
            {
                _clock.Restart();
                _text.Clear();
                _json = new JsonTextWriter(new StringWriter(_text, CultureInfo.InvariantCulture));
                _json.Formatting = Formatting.None;
                _json.WriteStartObject();
                _json.WritePropertyName("id"); _json.WriteValue(_id);
                _json.WritePropertyName("type"); _json.WriteValue("objects");
                _json.WritePropertyName("data"); _json.WriteStartArray();
            }
            WriteTop(item);
            _count++;
            if (_count >= _batchSize || _clock.ElapsedMilliseconds >= _batchMs) Flush();
        }

        public void Flush()
        {
            if (_count == 0) return;
            _json.WriteEndArray();
            _json.WriteEndObject();
            _json.Flush();
            _count = 0;
            _out.Write(_token);
            _out.Write(' ');
            _out.Write(_text);
            _out.WriteLine();
            _out.Flush();
            _text.Clear();
            _clock.Restart();
        }

        private static object Unwrap(object value)
        {
            PSObject wrapped = value as PSObject;
            return wrapped == null ? value : wrapped.BaseObject;
        }

        // One output object: selected properties of a PSCustomObject, else the whole value.
        private void WriteTop(object item)
        {
            object baseObject = Unwrap(item);
            if (baseObject is PSCustomObject && _select != null) WriteSelected((PSObject)item);
            else if (baseObject is PSCustomObject) WriteBag(item, 0);
            else WriteValue(item, 0);
        }

        private void WriteSelected(PSObject item)
        {
            _json.WriteStartObject();
            PSMemberInfoCollection<PSPropertyInfo> properties = item.Properties;
            foreach (string name in _select)
            {
                PSPropertyInfo property = properties[name];
                if (property == null) continue;
                _json.WritePropertyName(property.Name);
                WriteField(GetValue(property), 1);
            }
            _json.WriteEndObject();
        }

        private static object GetValue(PSPropertyInfo property)
        {
            try { return property.Value; } catch { return null; }
        }

        // A property's value: plain values as they are, anything else converted one level deeper.
        private void WriteField(object value, int depth)
        {
            object b = Unwrap(value);
            if (b == null) { _json.WriteNull(); return; }
            if (b is string) { _json.WriteValue((string)b); return; }
            if (b is bool) { _json.WriteValue((bool)b); return; }
            if (b is int) { _json.WriteValue((int)b); return; }
            string[] strings = b as string[];
            if (strings != null)
            {
                _json.WriteStartArray();
                foreach (string s in strings) _json.WriteValue(s);
                _json.WriteEndArray();
                return;
            }
            WriteValue(value, depth);
        }

        // ConvertTo-PlainData: DateTime → ISO-8601 UTC, enums/Guids → string, numbers as numbers,
        // dictionaries and property bags → objects, lists → arrays (depth MaxDepth).
        private void WriteValue(object value, int depth)
        {
            object b = Unwrap(value);
            if (b == null) { _json.WriteNull(); return; }
            if (b is PSCustomObject) { WriteBag(value, depth); return; }
            if (b is string) { _json.WriteValue((string)b); return; }
            if (b is bool) { _json.WriteValue((bool)b); return; }
            if (b is char || b is Guid || b is Enum || b is Version) { _json.WriteValue(b.ToString()); return; }
            if (b is DateTime) { _json.WriteValue(((DateTime)b).ToUniversalTime().ToString(DateFormat, CultureInfo.InvariantCulture)); return; }
            if (b is DateTimeOffset) { _json.WriteValue(((DateTimeOffset)b).UtcDateTime.ToString(DateFormat, CultureInfo.InvariantCulture)); return; }
            if (b is int || b is long || b is double || b is short || b is byte || b is uint || b is ulong || b is float ||
                b is decimal || b is sbyte || b is ushort) { _json.WriteValue(b); return; }
            if (b is TimeSpan) { _json.WriteValue(b.ToString()); return; }
            if (b is SecureString) { _json.WriteValue("[redacted]"); return; }
            if (depth >= MaxDepth) { _json.WriteValue(b.ToString()); return; }
            IDictionary dictionary = b as IDictionary;
            if (dictionary != null)
            {
                _json.WriteStartObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    _json.WritePropertyName(LanguagePrimitives.ConvertTo<string>(entry.Key) ?? "");
                    WriteValue(entry.Value, depth + 1);
                }
                _json.WriteEndObject();
                return;
            }
            IEnumerable list = b as IEnumerable;
            if (list != null)
            {
                _json.WriteStartArray();
                foreach (object item in list) WriteValue(item, depth + 1);
                _json.WriteEndArray();
                return;
            }
            WriteBag(value, depth);
        }

        // ConvertFrom-PropertyBag: every gettable property (a getter that throws gives null).
        private void WriteBag(object value, int depth)
        {
            if (depth >= MaxDepth) { _json.WriteValue(Unwrap(value).ToString()); return; }
            _json.WriteStartObject();
            foreach (PSPropertyInfo property in PSObject.AsPSObject(value).Properties)
            {
                if (!property.IsGettable) continue;
                _json.WritePropertyName(property.Name);
                WriteField(GetValue(property), depth + 1);
            }
            _json.WriteEndObject();
        }
    }

    // The end of a request's pipeline: objects into the writer's batch; a warning or error record first
    // sends the batch, then goes to -OnRecord (host.ps1 converts and sends it), so order is kept.
    [Cmdlet(VerbsCommunications.Send, "ExoPlaybookObjects")]
    public sealed class SendExoPlaybookObjectsCommand : PSCmdlet
    {
        [Parameter(Mandatory = true)] public ObjectWriter Writer { get; set; }
        // host.ps1's PowerShell loop passes a script block; Server passes RecordHandler.
        [Parameter] public ScriptBlock OnRecord { get; set; }
        [Parameter] public Action<object> RecordHandler { get; set; }
        [Parameter(ValueFromPipeline = true)] [AllowNull] public PSObject InputObject { get; set; }

        protected override void ProcessRecord()
        {
            object b = InputObject == null ? null : InputObject.BaseObject;
            if (b is WarningRecord || b is ErrorRecord)
            {
                Writer.Flush();
                if (RecordHandler != null) RecordHandler(b);
                else OnRecord.Invoke(b);
                return;
            }
            Writer.Add(InputObject);
        }
    }

    // The request loop, as host.ps1 runs it in PowerShell (same lines in, same lines out).
    public static class Server
    {
        private static readonly BlockingCollection<string> Inbox = new BlockingCollection<string>();
        private static readonly CmdletInfo SendObjects = new CmdletInfo("Send-ExoPlaybookObjects", typeof(SendExoPlaybookObjectsCommand));
        private static readonly Regex ServiceMessage = new Regex(@"^(?<code>[A-Za-z0-9]*)\|(?<type>[\w.]+)\|(?<text>[\s\S]*)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        // try/catch as in host.ps1: a terminating error of the command ends the call (without it, PowerShell
        // would end only that statement, and the request would end "ok"); `throw` passes its record on as it is.
        private const string CallScript = "param($Command, $Parameters) try { & $Command @Parameters 3>&1 2>&1 } catch { throw }";
        private static TextWriter _out;
        private static string _token;

        // A thread owns stdin. When stdin closes without a "quit" line first, the session's process is gone
        // (crashed, killed with SIGKILL): the host kills itself at once, even in the middle of a cmdlet.
        // Lines queued before the end are still served only when a "quit" came first.
        private static void StartReader(TextReader stdin)
        {
            Thread reader = new Thread(() =>
            {
                bool quit = false;
                while (true)
                {
                    string line;
                    try { line = stdin.ReadLine(); } catch (IOException) { line = null; }
                    if (line == null) break;
                    if (!quit) quit = IsQuit(line);
                    Inbox.Add(line);
                }
                Inbox.CompleteAdding();
                if (!quit) Process.GetCurrentProcess().Kill();
            });
            reader.IsBackground = true;
            reader.Name = "exo-playbook stdin";
            reader.Start();
        }

        private static bool IsQuit(string line)
        {
            try
            {
                using (JsonDocument document = JsonDocument.Parse(line))
                {
                    JsonElement type;
                    return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("type", out type) &&
                        type.ValueKind == JsonValueKind.String && string.Equals(type.GetString(), "quit", StringComparison.OrdinalIgnoreCase);
                }
            }
            catch (Exception) { return false; }
        }

        // The next line, or null once stdin has ended and every line before the end was taken.
        private static string Take()
        {
            string line;
            return Inbox.TryTake(out line, Timeout.Infinite) ? line : null;
        }

        // The hello line: the token every response carries, and the module to import (null: none).
        // False when stdin ended before it.
        private static bool Hello(Stream stdout, out string module)
        {
            module = null;
            string line = Take();
            if (line == null) return false;
            using (JsonDocument hello = JsonDocument.Parse(line))
            {
                _token = hello.RootElement.GetProperty("token").GetString();
                // Our own writer on fd 1, not Console.Out (a 256-character buffer that flushes every write);
                // every response is flushed at its end, so nothing waits here while a module runs.
                _out = new StreamWriter(stdout, new UTF8Encoding(false), 65536) { AutoFlush = false };
                module = hello.RootElement.GetProperty("module").GetString();
                return true;
            }
        }

        private static void Ready(string psVersion, string module, string moduleVersion)
        {
            Send(json =>
            {
                json.WritePropertyName("type"); json.WriteValue("ready");
                json.WritePropertyName("psVersion"); json.WriteValue(psVersion);
                json.WritePropertyName("module"); json.WriteValue(module);
                json.WritePropertyName("moduleVersion"); json.WriteValue(moduleVersion);
                json.WritePropertyName("host"); json.WriteValue("compiled");
            });
        }

        private static void Fatal(ErrorRecord record)
        {
            Send(json =>
            {
                json.WritePropertyName("type"); json.WriteValue("fatal");
                json.WritePropertyName("record"); WriteError(json, record);
            });
        }

        // The whole life of a host whose compiled code is loaded: hello, the module imported, "ready", then
        // every request until "quit" or the end of stdin. Returns the process's exit code: 0, 2 (stdin
        // ended before hello) or 3 (the module could not be imported: "fatal" says why).
        public static int Run(EngineIntrinsics context, string psVersion, HashSet<string> allowed, int batchSize, int batchMs)
        {
            StartReader(Console.In);
            string module;
            if (!Hello(Console.OpenStandardOutput(), out module)) return 2;
            try
            {
                string moduleVersion = null;
                if (!string.IsNullOrEmpty(module))
                {
                    // Import-Module -Name <module> -ErrorAction Stop -DisableNameChecking, as host.ps1 runs it.
                    using (PowerShell import = PowerShell.Create(RunspaceMode.CurrentRunspace))
                    {
                        import.AddCommand("Microsoft.PowerShell.Core\\Import-Module").AddParameter("Name", module)
                            .AddParameter("ErrorAction", ActionPreference.Stop).AddParameter("DisableNameChecking").AddParameter("PassThru");
                        foreach (PSObject imported in import.Invoke())
                        {
                            PSModuleInfo info = imported.BaseObject as PSModuleInfo;
                            if (info != null && string.Equals(info.Name, module, StringComparison.OrdinalIgnoreCase)) moduleVersion = info.Version.ToString();
                        }
                    }
                }
                Ready(psVersion, module, moduleVersion);
            }
            catch (Exception e)
            {
                Fatal(RecordOf(e));
                return 3;
            }
            Serve(context, allowed, batchSize, batchMs);
            return 0;
        }

        // Serves requests until "quit" or the end of stdin.
        private static void Serve(EngineIntrinsics context, HashSet<string> allowed, int batchSize, int batchMs)
        {
            while (true)
            {
                string line = Take();
                if (line == null) return;
                if (line.Length == 0) continue;
                JsonDocument document;
                string type;
                try
                {
                    document = JsonDocument.Parse(line);
                    type = document.RootElement.GetProperty("type").GetString();
                }
                catch (Exception e)
                {
                    // Not a request (the session never sends one like it): say so on stderr and keep serving.
                    Console.Error.WriteLine("exo-playbook host: ignored a line that is not a request: " + e.Message);
                    continue;
                }
                using (document)
                {
                    if (string.Equals(type, "quit", StringComparison.OrdinalIgnoreCase)) return;
                    if (!string.Equals(type, "invoke", StringComparison.OrdinalIgnoreCase)) continue;
                    int id;
                    try { id = document.RootElement.GetProperty("id").GetInt32(); }
                    catch (Exception e)
                    {
                        Console.Error.WriteLine("exo-playbook host: ignored a request without an id: " + e.Message);
                        continue;
                    }
                    try { Invoke(context, allowed, document.RootElement, id, batchSize, batchMs); }
                    catch (Exception e)
                    {
                        // A bug in the host itself: report it on the request rather than dying.
                        SendEnd(id, RecordOf(e));
                    }
                }
            }
        }

        private static void Invoke(EngineIntrinsics context, HashSet<string> allowed, JsonElement request, int id, int batchSize, int batchMs)
        {
            string name = request.GetProperty("cmdlet").GetString();
            if (name == null || !allowed.Contains(name))
            {
                SendEnd(id, HostError("CmdletNotAllowed", "The cmdlet '" + name + "' is not on exo-playbook's allowlist; the host refuses to run it."));
                return;
            }
            CommandInfo command = context.InvokeCommand.GetCommand(name, CommandTypes.Function | CommandTypes.Cmdlet);
            if (command == null)
            {
                SendEnd(id, HostError("CmdletNotFound", "The cmdlet '" + name + "' is not available: is the module imported and connected?"));
                return;
            }
            // Parameters are bound from data (never pasted into script text), like splatting a hashtable.
            Hashtable parameters = new Hashtable(StringComparer.OrdinalIgnoreCase);
            HashSet<string> select = null;
            foreach (JsonProperty field in request.EnumerateObject())
            {
                if (string.Equals(field.Name, "parameters", StringComparison.OrdinalIgnoreCase) && field.Value.ValueKind == JsonValueKind.Object)
                {
                    foreach (JsonProperty parameter in field.Value.EnumerateObject()) parameters[parameter.Name] = FromJson(parameter.Value);
                }
                // Only these properties of each output object are converted (the caller names what it reads).
                if (string.Equals(field.Name, "select", StringComparison.OrdinalIgnoreCase) && field.Value.ValueKind == JsonValueKind.Array)
                {
                    select = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                    foreach (JsonElement wanted in field.Value.EnumerateArray()) if (wanted.ValueKind == JsonValueKind.String) select.Add(wanted.GetString());
                }
            }
            // Set-* never prompts, whatever the module's ConfirmImpact.
            if (command.Parameters.ContainsKey("Confirm") && !parameters.ContainsKey("Confirm")) parameters["Confirm"] = false;
            string[] names = null;
            if (select != null) { names = new string[select.Count]; select.CopyTo(names); }

            ObjectWriter writer = new ObjectWriter(_out, _token, id, names, batchSize, batchMs);
            // Warnings and non-terminating errors join the output in the order they happen (3>&1 2>&1), and
            // stay non-terminating: the module runs with PowerShell's default ErrorActionPreference.
            Action<object> onRecord = record =>
            {
                WarningRecord warning = record as WarningRecord;
                if (warning != null)
                    Send(json =>
                    {
                        json.WritePropertyName("id"); json.WriteValue(id);
                        json.WritePropertyName("type"); json.WriteValue("warning");
                        json.WritePropertyName("message"); json.WriteValue(warning.Message);
                    });
                else
                    Send(json =>
                    {
                        json.WritePropertyName("id"); json.WriteValue(id);
                        json.WritePropertyName("type"); json.WriteValue("error");
                        json.WritePropertyName("record"); WriteError(json, (ErrorRecord)record);
                    });
            };
            try
            {
                using (PowerShell pipeline = PowerShell.Create(RunspaceMode.CurrentRunspace))
                {
                    // The command as found above, called as host.ps1 calls it: a PowerShell API command built
                    // from a FunctionInfo runs outside its module's scope (it cannot see the module's own
                    // functions), so the call goes through this fixed script; the values travel as arguments.
                    pipeline.AddScript(CallScript, true).AddArgument(command).AddArgument(parameters);
                    pipeline.AddCommand(SendObjects).AddParameter("Writer", writer).AddParameter("RecordHandler", onRecord);
                    pipeline.Invoke();
                }
                writer.Flush();
                SendEnd(id, (ErrorRecord)null);
            }
            catch (Exception e)
            {
                // The objects the cmdlet wrote before it failed still go out, before the end.
                try { writer.Flush(); } catch (Exception) { }
                SendEnd(id, RecordOf(e));
            }
        }

        // A terminating error's record, as `catch { $_ }` sees it in host.ps1: the one a -ErrorAction Stop
        // turned terminating, else the exception's own, naming the exception itself (a RuntimeException's
        // own record names a ParentContainsErrorRecordException in its place).
        private static ErrorRecord RecordOf(Exception e)
        {
            IContainsErrorRecord contains = e as IContainsErrorRecord;
            ErrorRecord record = contains != null ? contains.ErrorRecord : null;
            if (record == null) return new ErrorRecord(e, e.GetType().FullName, ErrorCategory.NotSpecified, null);
            if (record.Exception is ParentContainsErrorRecordException) record = new ErrorRecord(record, e);
            ActionPreferenceStopException stop = record.Exception as ActionPreferenceStopException;
            if (stop != null && stop.ErrorRecord != null && !(stop.ErrorRecord.Exception is ParentContainsErrorRecordException)) return stop.ErrorRecord;
            return record;
        }

        // JSON (System.Text.Json element) → PowerShell value, as ConvertFrom-JsonElement: dates stay strings;
        // an all-string list is a string[]; {"$secureString": "..."} is a SecureString; {"$dateTimeUtc": "..."}
        // a DateTime of Kind Utc.
        private static object FromJson(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.True: return true;
                case JsonValueKind.False: return false;
                case JsonValueKind.String: return element.GetString();
                case JsonValueKind.Number:
                    int i; long l;
                    if (element.TryGetInt32(out i)) return i;
                    if (element.TryGetInt64(out l)) return l;
                    return element.GetDouble();
                case JsonValueKind.Array:
                    List<object> items = new List<object>();
                    bool strings = true;
                    foreach (JsonElement child in element.EnumerateArray())
                    {
                        object value = FromJson(child);
                        if (!(value is string)) strings = false;
                        items.Add(value);
                    }
                    if (items.Count > 0 && strings) return items.ConvertAll(x => (string)x).ToArray();
                    return items.ToArray();
                case JsonValueKind.Object:
                    List<JsonProperty> fields = new List<JsonProperty>(element.EnumerateObject());
                    if (fields.Count == 1 && string.Equals(fields[0].Name, "$secureString", StringComparison.OrdinalIgnoreCase) && fields[0].Value.ValueKind == JsonValueKind.String)
                        return new NetworkCredential(string.Empty, fields[0].Value.GetString()).SecurePassword;
                    if (fields.Count == 1 && string.Equals(fields[0].Name, "$dateTimeUtc", StringComparison.OrdinalIgnoreCase) && fields[0].Value.ValueKind == JsonValueKind.String)
                        return DateTimeOffset.Parse(fields[0].Value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).UtcDateTime;
                    OrderedDictionary table = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                    foreach (JsonProperty field in fields) table[field.Name] = FromJson(field.Value);
                    return table;
                default: return null;
            }
        }

        // New-HostError: a refusal of the host's own, shaped like a service error record.
        private static Action<JsonTextWriter> HostError(string id, string message)
        {
            return json =>
            {
                json.WriteStartObject();
                json.WritePropertyName("exceptionType"); json.WriteValue("ExoPlaybook.Host." + id);
                json.WritePropertyName("fullyQualifiedErrorId"); json.WriteValue(id);
                json.WritePropertyName("message"); json.WriteValue(message);
                json.WritePropertyName("target"); json.WriteNull();
                json.WritePropertyName("category"); json.WriteValue("InvalidOperation");
                json.WriteEndObject();
            };
        }

        private static void SendEnd(int id, ErrorRecord failure)
        {
            SendEnd(id, failure == null ? null : (Action<JsonTextWriter>)(json => WriteError(json, failure)));
        }

        private static void SendEnd(int id, Action<JsonTextWriter> record)
        {
            Send(json =>
            {
                json.WritePropertyName("id"); json.WriteValue(id);
                json.WritePropertyName("type"); json.WriteValue("end");
                json.WritePropertyName("ok"); json.WriteValue(record == null);
                if (record != null) { json.WritePropertyName("record"); record(json); }
            });
        }

        // ConvertTo-ErrorData: the ExchangeOnlineManagement v3 REST cmdlets report service errors as
        // "<code>|<exception type>|<text>" in the message (EXCHANGE-FACTS.md): split so callers see the type.
        private static void WriteError(JsonTextWriter json, ErrorRecord record)
        {
            Exception exception = record.Exception;
            string message = record.ErrorDetails != null && !string.IsNullOrEmpty(record.ErrorDetails.Message) ? record.ErrorDetails.Message : exception.Message;
            string exceptionType = exception.GetType().FullName;
            string code = null;
            Match match = ServiceMessage.Match(message ?? string.Empty);
            if (match.Success)
            {
                exceptionType = match.Groups["type"].Value;
                message = match.Groups["text"].Value;
                if (match.Groups["code"].Value.Length > 0) code = match.Groups["code"].Value;
            }
            json.WriteStartObject();
            json.WritePropertyName("exceptionType"); json.WriteValue(exceptionType);
            json.WritePropertyName("fullyQualifiedErrorId"); json.WriteValue(record.FullyQualifiedErrorId ?? string.Empty);
            json.WritePropertyName("message"); json.WriteValue(message);
            json.WritePropertyName("target"); json.WriteValue(record.TargetObject == null ? null : LanguagePrimitives.ConvertTo<string>(record.TargetObject));
            json.WritePropertyName("category"); json.WriteValue(record.CategoryInfo.Category.ToString());
            if (code != null) { json.WritePropertyName("code"); json.WriteValue(code); }
            json.WriteEndObject();
        }

        private static void Send(Action<JsonTextWriter> body)
        {
            StringWriter text = new StringWriter(CultureInfo.InvariantCulture);
            using (JsonTextWriter json = new JsonTextWriter(text))
            {
                json.Formatting = Formatting.None;
                json.WriteStartObject();
                body(json);
                json.WriteEndObject();
            }
            _out.Write(_token);
            _out.Write(' ');
            _out.Write(text.ToString());
            _out.WriteLine();
            _out.Flush();
        }
    }
}

