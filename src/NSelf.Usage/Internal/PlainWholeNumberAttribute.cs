using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Internal;

/// <summary>
/// For the counts that are neither money nor a quantity (days, a port, a batch size, a sort
/// order, a status code, an id such as an alert delivery's): text must be a plain invariant whole number and a fraction is refused,
/// because PowerShell alone reads '0,75' as 75 and rounds 7.5 to 8 (to even). These parameters
/// keep their int type and their ValidateRange, so a refusal here is a parameter binding error
/// like their range errors; money and quantities use PowerShellValues.Number instead, which
/// reports InvalidPrice/InvalidQuantity.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class PlainWholeNumberAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        // A list (the ids of Submit-UsageAlertDelivery -DeliveryId 3, 4): each element by the same rule.
        if (PowerShellValues.Unwrap(inputData) is object?[] list)
            return Array.ConvertAll(list, element => One(element));
        return One(inputData);
    }

    private static object? One(object? inputData)
    {
        var value = PowerShellValues.Unwrap(inputData);
        decimal? number = value switch
        {
            string text => PlainNumbers.TryParse(text, allowExponent: false, out var parsed) ? parsed : null,
            double d => PlainNumbers.FromDouble(d),
            float f => PlainNumbers.FromSingle(f),
            decimal m => m,
            _ => 0m, // integers and everything else: PowerShell's own conversion, unchanged
        };
        if (number is not { } n || decimal.Truncate(n) != n)
            throw new ArgumentTransformationMetadataException(
                $"'{Convert.ToString(value, CultureInfo.InvariantCulture)}' is not a plain whole number: write digits only, such as 30 (no comma, space, decimal point or exponent).");
        return value is string or double or float or decimal ? n : inputData;
    }
}
