using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Tests.Architecture;

/// <summary>
/// The engine's folders import each other in one direction only (Time and Configuration, then
/// Ingestion, Billing, Storage, Reporting, Accounts, and Tracking and Exports on top): a folder's
/// name then says what it may rely on, and a rule cannot hide behind a cycle. Read from the sources,
/// so a new `using` or a fully qualified name that closes a cycle fails here with the files that do it.
/// </summary>
public sealed partial class FolderLayeringTests
{
    [GeneratedRegex(@"\bNSelf\.Usage\.Engine\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex EngineNamespace();

    private static string EngineSources()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var engine = Path.Combine(folder.FullName, "src", "NSelf.Usage.Engine");
            if (Directory.Exists(engine))
                return engine;
        }
        throw new DirectoryNotFoundException("src/NSelf.Usage.Engine not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Folder to the folders it names, each with the files that name it.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> Imports()
    {
        var root = EngineSources();
        var imports = new Dictionary<string, Dictionary<string, List<string>>>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (relative.StartsWith("bin/", StringComparison.Ordinal) || relative.StartsWith("obj/", StringComparison.Ordinal) || !relative.Contains('/'))
                continue;
            var folder = relative[..relative.IndexOf('/')];
            var text = File.ReadAllText(file);
            foreach (Match match in EngineNamespace().Matches(text))
            {
                var other = match.Groups[1].Value;
                if (other == folder)
                    continue;
                var byFolder = imports.TryGetValue(folder, out var known) ? known : imports[folder] = new(StringComparer.Ordinal);
                var files = byFolder.TryGetValue(other, out var list) ? list : byFolder[other] = [];
                if (!files.Contains(relative))
                    files.Add(relative);
            }
        }
        return imports;
    }

    [Fact]
    public void Engine_Folders_ImportEachOther_WithoutACycle()
    {
        var imports = Imports();
        Assert.Contains("Storage", imports.Keys); // the scan found the sources
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();

        string? Visit(string folder)
        {
            if (path.Contains(folder))
            {
                var cycle = path.Skip(path.IndexOf(folder)).Append(folder).ToList();
                return string.Join(Environment.NewLine, cycle.Zip(cycle.Skip(1), (a, b) => $"{a} -> {b} ({string.Join(", ", imports[a][b])})"));
            }
            if (!done.Add(folder))
                return null;
            path.Add(folder);
            foreach (var next in imports.TryGetValue(folder, out var targets) ? targets.Keys.Order(StringComparer.Ordinal).ToList() : [])
                if (Visit(next) is { } found)
                    return found;
            path.RemoveAt(path.Count - 1);
            return null;
        }

        foreach (var folder in imports.Keys.Order(StringComparer.Ordinal))
            if (Visit(folder) is { } cycle)
                Assert.Fail("The engine's folders import each other in a cycle:" + Environment.NewLine + cycle);
    }

    [Theory]
    [InlineData("Billing", "Storage")]
    [InlineData("Billing", "Accounts")]
    [InlineData("Storage", "Accounts")]
    [InlineData("Storage", "Reporting")]
    [InlineData("Ingestion", "Storage")]
    public void Lower_Folders_DoNotImport_Higher_Ones(string lower, string higher)
    {
        var imports = Imports();
        Assert.False(imports.TryGetValue(lower, out var targets) && targets.ContainsKey(higher),
            $"{lower} imports {higher}: {(targets is not null && targets.TryGetValue(higher, out var files) ? string.Join(", ", files) : "")}");
    }
}
