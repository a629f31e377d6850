using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Storage;

/// <summary>One numbered SQL migration embedded in the engine (database/&lt;backend&gt;/NNN_name.sql).</summary>
public sealed partial record MigrationScript(int Version, string Name, string Sql, string Checksum)
{
    [GeneratedRegex(@"^migrations/(?<backend>[a-z]+)/(?<version>\d{3})_(?<name>[A-Za-z0-9_]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex ResourcePattern();

    /// <summary>The migrations of one backend folder, in order.</summary>
    public static IReadOnlyList<MigrationScript> Load(string backend)
    {
        var assembly = typeof(MigrationScript).Assembly;
        var scripts = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourcePattern().Match(resource);
            if (!match.Success || match.Groups["backend"].Value != backend)
                continue;
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            // Line endings are normalised so a Windows checkout has the same checksum.
            var sql = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);
            scripts.Add(new MigrationScript(
                int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture),
                match.Groups["name"].Value,
                sql,
                Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))).ToLowerInvariant()));
        }
        scripts.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < scripts.Count; i++)
            if (scripts[i].Version != i + 1)
                throw new InvalidOperationException($"Migrations for {backend} are not numbered 1..n: found {scripts[i].Version} at position {i + 1}.");
        return scripts;
    }

    /// <summary>Fails when an applied migration no longer matches the one shipped with this version.</summary>
    public static void VerifyApplied(IReadOnlyList<MigrationScript> shipped, IEnumerable<UsageStoreMigration> applied, string location)
    {
        foreach (var done in applied)
        {
            if (done.Version > shipped.Count)
                throw new UsageException(ErrorIds.StoreSchemaMismatch, UsageErrorKind.InvalidOperation,
                    $"The store at {location} has schema version {done.Version}, newer than this module knows ({shipped.Count}). Update the NSelf.Usage module.", location);
            var script = shipped[done.Version - 1];
            if (!string.Equals(script.Checksum, done.Checksum, StringComparison.OrdinalIgnoreCase))
                throw new UsageException(ErrorIds.StoreSchemaMismatch, UsageErrorKind.InvalidData,
                    $"Migration {done.Version} ({done.Name}) applied to {location} differs from the one this module ships (checksum {done.Checksum[..12]} vs {script.Checksum[..12]}). The schema was changed by hand or by another build.", location);
        }
    }
}
