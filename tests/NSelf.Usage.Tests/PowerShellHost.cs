using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace NSelf.Usage.Tests;

/// <summary>
/// A runspace with the NSelf.Usage cmdlets and views, hosted in the test process, and a
/// temporary SQLite store of its own. Scripts run here see errors as ErrorRecords, as a user would.
/// </summary>
public sealed class PowerShellHost : IDisposable
{
    private readonly Runspace _runspace;

    public PowerShellHost()
    {
        Directory = Path.Combine(Path.GetTempPath(), "nself-usage-host-" + Guid.NewGuid().ToString("n")[..12]);
        System.IO.Directory.CreateDirectory(Directory);
        var state = InitialSessionState.CreateDefault2();
        foreach (var type in typeof(NSelf.Usage.Internal.UsageCmdlet).Assembly.GetExportedTypes())
            if (type.GetCustomAttributes(typeof(CmdletAttribute), false).FirstOrDefault() is CmdletAttribute cmdlet)
                state.Commands.Add(new SessionStateCmdletEntry($"{cmdlet.VerbName}-{cmdlet.NounName}", type, null));
        foreach (var file in System.IO.Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "module"), "*.Format.ps1xml"))
            state.Formats.Add(new SessionStateFormatEntry(file));
        _runspace = RunspaceFactory.CreateRunspace(state);
        _runspace.Open();
        Run($"Set-Location -LiteralPath '{Directory}'");
        StorePath = Path.Combine(Directory, "usage.db");
        Run($"Connect-UsageStore -Path '{StorePath}'");
    }

    public string Directory { get; }

    public string StorePath { get; }

    public sealed record Result(Collection<PSObject> Output, IReadOnlyList<ErrorRecord> Errors, IReadOnlyList<WarningRecord> Warnings);

    /// <summary>Runs a script; errors are collected, not thrown.</summary>
    public Result Invoke(string script, IDictionary<string, object?>? variables = null)
    {
        using var ps = PowerShell.Create(_runspace);
        if (variables is not null)
            foreach (var (name, value) in variables)
                ps.Runspace.SessionStateProxy.SetVariable(name, value);
        ps.AddScript(script);
        var output = ps.Invoke();
        return new Result(output, ps.Streams.Error.ToList(), ps.Streams.Warning.ToList());
    }

    /// <summary>Runs a script that must not write errors; returns its output.</summary>
    public Collection<PSObject> Run(string script, IDictionary<string, object?>? variables = null)
    {
        var result = Invoke(script, variables);
        Assert.True(result.Errors.Count == 0, string.Join(Environment.NewLine, result.Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return result.Output;
    }

    public T Single<T>(string script) => Assert.IsType<T>(Assert.Single(Run(script)).BaseObject);

    public void Dispose()
    {
        Invoke("Disconnect-UsageStore");
        _runspace.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a handle still closing; the temp cleaner gets it */ }
    }
}
