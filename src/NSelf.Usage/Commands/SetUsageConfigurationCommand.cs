using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Sets this session's default customer and time zone (they last until the session ends).</summary>
[Cmdlet(VerbsCommon.Set, "UsageConfiguration", SupportsShouldProcess = true)]
[OutputType(typeof(UsageConfiguration))]
public sealed class SetUsageConfigurationCommand : UsageCmdlet
{
    /// <summary>The default customer for every command in this session. An empty string clears it.</summary>
    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; }

    /// <summary>The default IANA zone for calendar buckets and offset-less times. An empty string clears it.</summary>
    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override void Finish()
    {
        // Every value is checked before any is applied, so a bad one changes nothing.
        var customer = string.IsNullOrEmpty(CustomerId) ? null : Require(() => TextRules.CustomerId(CustomerId));
        var zone = string.IsNullOrEmpty(TimeZone) ? null : TimeZones.DisplayId(Require(() => TimeZones.Find(TimeZone)));
        if (CustomerId is not null && ShouldProcess("session", customer is null ? "Clear the default customer id" : $"Set the default customer id to {customer}"))
            Session.CustomerId = customer;
        if (TimeZone is not null && ShouldProcess("session", zone is null ? "Clear the default time zone" : $"Set the default time zone to {zone}"))
            Session.TimeZone = zone;
        if (PassThru)
            WriteObject(Require(() => GetUsageConfigurationCommand.Current(this)));
    }
}
