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
        return value is string text ? Quantities.Parse(text, text) : Quantities.Validate(Number(value, NumberKind.Quantity, "Quantity"), value);
    }

    /// <summary>
    /// The one conversion of every money and quantity parameter (issue 14). Parameters that carry
    /// money or a quantity are typed object, not decimal, because PowerShell's own conversion
    /// reads '0,75' as 75 in every culture, and a failure inside parameter binding (even from an
    /// ArgumentTransformationAttribute) reaches the user as ParameterArgumentTransformationError,
    /// not as InvalidPrice/InvalidQuantity with the value as TargetObject. So the command reads
    /// the bound value through here: numbers exactly (a double to its 15 significant digits, as PowerShell casts it),
    /// text by the plain invariant rule, anything else refused. Range checks stay with the caller.
    /// </summary>
    public static decimal Number(object? value, NumberKind kind, string what)
    {
        value = Unwrap(value);
        switch (value)
        {
            case decimal d: return d;
            case int or long or short or byte or sbyte or uint or ushort or ulong: return Convert.ToDecimal(value, CultureInfo.InvariantCulture);
            case double d64: return PlainNumbers.FromDouble(d64) ?? throw Refuse(kind, $"{what} {d64.ToString("R", CultureInfo.InvariantCulture)} is not a finite number.", value);
            case float f32: return PlainNumbers.FromSingle(f32) ?? throw Refuse(kind, $"{what} {f32.ToString("R", CultureInfo.InvariantCulture)} is not a finite number.", value);
            case string text: return kind == NumberKind.Money ? Engine.Billing.Prices.Parse(text, what, text) : Quantities.ParseNumber(text, what, text);
            case null: throw Refuse(kind, $"{what} is empty: give a number, or leave the parameter out.", null);
            default: throw Refuse(kind, $"{what} '{value}' is not a number.", value);
        }
    }

    /// <summary>An amount of money paid, credited or granted: the same rule, refused as InvalidAmount.</summary>
    public static decimal Amount(object? value, string what)
    {
        try
        {
            return Number(value, NumberKind.Money, what);
        }
        catch (UsageException e)
        {
            throw new UsageException(ErrorIds.InvalidAmount, UsageErrorKind.InvalidArgument, e.Message, e.Target, e);
        }
    }

    /// <summary>A whole-number quantity (bytes, a limit, megabytes): the same rule, and no fraction.</summary>
    public static long WholeNumber(object? value, string what)
    {
        var number = Number(value, NumberKind.Quantity, what);
        if (decimal.Truncate(number) != number || number < long.MinValue || number > long.MaxValue)
            throw Refuse(NumberKind.Quantity, $"{what} {Quantities.Format(number)} is not a whole number.", Unwrap(value));
        return decimal.ToInt64(number);
    }

    private static UsageException Refuse(NumberKind kind, string message, object? target) =>
        new(kind == NumberKind.Money ? ErrorIds.InvalidPrice : ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, message, target);
}

/// <summary>Which error a refused number is: a price or fee (InvalidPrice) or a quantity (InvalidQuantity).</summary>
internal enum NumberKind
{
    Quantity,
    Money,
}
