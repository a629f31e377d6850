using System.Collections;
using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Internal;

/// <summary>Turns PowerShell values (PSObject wrappers, hashtables, custom objects) into plain .NET values for the engine.</summary>
internal static class PowerShellValues
{
    public static object? Unwrap(object? value) => value is PSObject ps && ps.BaseObject is not PSCustomObject ? ps.BaseObject : value;

    /// <summary>Metadata from a hashtable, an object or a JSON string, as compact JSON object text.</summary>
    public static string MetadataJson(object? value)
    {
        value = Unwrap(value);
        return value switch
        {
            null => Metadata.Empty,
            string json => Metadata.Normalize(json),
            IDictionary or PSObject => Metadata.FromValues(ToMap(value, 0), Describe(value)),
            _ => throw new UsageException(ErrorIds.InvalidMetadata, UsageErrorKind.InvalidArgument,
                $"Metadata must be a hashtable, an object or a JSON object string, not a {value.GetType().Name}.", value),
        };
    }

    private static string Describe(object value) => value is IDictionary ? "@{...}" : value.ToString() ?? "";

    private static IEnumerable<KeyValuePair<string, object?>> ToMap(object value, int depth)
    {
        if (depth > Metadata.MaximumDepth)
            throw new UsageException(ErrorIds.InvalidMetadata, UsageErrorKind.InvalidArgument, $"Metadata nests deeper than {Metadata.MaximumDepth} levels.", "@{...}");
        var map = new List<KeyValuePair<string, object?>>();
        switch (value)
        {
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                    map.Add(new(Convert.ToString(Unwrap(entry.Key), CultureInfo.InvariantCulture) ?? "", ToPlain(entry.Value, depth)));
                break;
            case PSObject ps:
                foreach (var property in ps.Properties)
                    if (property.IsGettable && property.MemberType is PSMemberTypes.NoteProperty or PSMemberTypes.Property)
                        map.Add(new(property.Name, ToPlain(property.Value, depth)));
                break;
        }
        return map;
    }

    private static object? ToPlain(object? value, int depth)
    {
        value = Unwrap(value);
        return value switch
        {
            null or string or bool or decimal or double or float or int or long or short or byte or sbyte or uint or ulong or ushort or DateTime or DateTimeOffset or Guid or Enum => value,
            IDictionary or PSObject => ToMap(value, depth + 1),
            IEnumerable list => list.Cast<object?>().Select(item => ToPlain(item, depth + 1)).ToList(),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

    /// <summary>A quantity from a number or invariant-culture text; NaN, infinities and junk are InvalidQuantity.</summary>
    public static decimal Quantity(object? value)
    {
        value = Unwrap(value);
        switch (value)
        {
            case decimal d: return Quantities.Validate(d);
            case int or long or short or byte or sbyte or uint or ushort: return Quantities.Validate(Convert.ToDecimal(value, CultureInfo.InvariantCulture), value);
            case ulong u when u <= (ulong)Quantities.MaximumPerEvent: return Quantities.Validate(u, value);
            case double or float:
                var d64 = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (!double.IsFinite(d64) || Math.Abs(d64) > 7.9e28)
                    throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"Quantity {value} is not a finite number.", value);
                return Quantities.Validate(new decimal(d64), value);
            case string text: return Quantities.Parse(text, text);
            default:
                throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument,
                    value is null ? "No quantity was given." : $"Quantity '{value}' is not a number.", value);
        }
    }
}
