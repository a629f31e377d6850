using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace NSelf.Usage.Internal;

/// <summary>
/// The module's views and extra members (module/NSelf.Usage.Format.ps1xml and .Types.ps1xml),
/// loaded into a runspace when one of its commands first writes an object there, not at import.
/// Adding format data makes PowerShell build its whole format table, its own views included: at
/// import that was a fifth of a scheduled script's start-up, paid by every script that tracks an
/// event and shows nothing (issue 17, item 10; decision 227). A session that shows or pipes our
/// objects pays it with the first object, before that object reaches a formatter.
/// </summary>
internal static class ModuleViews
{
    // Not EngineLoadContext's folder: reading it would build the engine's load context, which a
    // host without the deps/ folder (the cmdlet tests) cannot.
    private static readonly string ModuleFolder = Path.Combine(
        Path.GetDirectoryName(Path.GetDirectoryName(typeof(ModuleViews).Assembly.Location)!)!, "module");

    /// <summary>Loads the views into the runspace of this session once; called on the pipeline thread.</summary>
    public static void EnsureLoaded(UsageSession session)
    {
        if (session.ViewsLoaded || Runspace.DefaultRunspace is null)
            return;
        session.ViewsLoaded = true;
        using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
        shell.AddCommand(@"Microsoft.PowerShell.Utility\Update-TypeData")
            .AddParameter("AppendPath", Path.Combine(ModuleFolder, "NSelf.Usage.Types.ps1xml"))
            .AddStatement()
            .AddCommand(@"Microsoft.PowerShell.Utility\Update-FormatData")
            .AddParameter("AppendPath", Path.Combine(ModuleFolder, "NSelf.Usage.Format.ps1xml"));
        // A host whose tables cannot change (a shared type table) refuses: our objects then show
        // in PowerShell's default views, whole and correct, which is better than failing the command.
        shell.Invoke();
    }
}
