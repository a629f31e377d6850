using System.Collections.Concurrent;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace NSelf.Usage.Internal;

/// <summary>
/// The private load context of the engine. pwsh does not read a binary module's deps.json, so
/// a plain build cannot find SQLite's native library, and third-party assemblies (Npgsql,
/// Microsoft.Data.Sqlite, Microsoft.Extensions.*) would collide with other modules' copies.
/// The engine and everything it depends on are published into deps/ and loaded here, resolved
/// through the engine's own deps.json, managed and native alike. Only the object model
/// (NSelf.Usage.Model) is shared with the default context, so PowerShell can name its types.
/// </summary>
internal sealed class EngineLoadContext : AssemblyLoadContext
{
    private const string EngineAssemblyName = "NSelf.Usage.Engine";
    private const string ModelAssemblyName = "NSelf.Usage.Model";

    private static readonly string ModuleDirectory = Path.GetDirectoryName(typeof(EngineLoadContext).Assembly.Location)!;

    public static EngineLoadContext Instance { get; } = new();

    private readonly AssemblyDependencyResolver _resolver;
    private readonly ConcurrentDictionary<string, IntPtr> _native = new(StringComparer.Ordinal);

    private EngineLoadContext()
        : base("NSelf.Usage.Engine", isCollectible: false)
    {
        _resolver = new AssemblyDependencyResolver(Path.Combine(ModuleDirectory, "deps", EngineAssemblyName + ".dll"));
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // The object model must have one identity in the process: the default context's.
        if (assemblyName.Name == ModelAssemblyName)
            return Default.LoadFromAssemblyName(assemblyName);
        return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        _native.GetOrAdd(unmanagedDllName, name =>
            _resolver.ResolveUnmanagedDllToPath(name) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero);

    /// <summary>
    /// Sends the default context's requests for the engine here, and finds the object model next
    /// to the cmdlet assembly. Installed once per process, before any cmdlet runs.
    /// </summary>
    private static Assembly? ResolveInDefault(AssemblyLoadContext context, AssemblyName name) => name.Name switch
    {
        EngineAssemblyName => Instance.LoadFromAssemblyName(name),
        ModelAssemblyName => context.LoadFromAssemblyPath(Path.Combine(ModuleDirectory, ModelAssemblyName + ".dll")),
        _ => null,
    };

    private static int _installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
            Default.Resolving += ResolveInDefault;
    }
}

/// <summary>Module import and removal: wire the load context; close this runspace's store on removal.</summary>
public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    public void OnImport() => EngineLoadContext.Install();

    public void OnRemove(PSModuleInfo psModuleInfo) => UsageSession.CloseCurrent();
}
