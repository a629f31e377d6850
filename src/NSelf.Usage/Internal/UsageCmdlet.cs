using System.Diagnostics;
using System.Management.Automation;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of every NSelf.Usage cmdlet: the runspace's session, customer and zone defaults,
/// time parsing, and one way of turning engine failures into error records with stable ids.
/// </summary>
public abstract class UsageCmdlet : PSCmdlet, IDisposable
{
    // Cancelled by StopProcessing (Ctrl+C, or a downstream Select-Object -First that has what it
    // wants), which PowerShell calls on another thread while a step may be waiting on a query.
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when the pipeline is stopped: for work the engine runs outside the store (writing a file, a loop over customers).</summary>
    internal CancellationToken StopToken => _stopping.Token;

    /// <summary>
    /// Whether a stop interrupts this command's running statement. A tracking command says no: its
    /// chunks each commit or roll back whole and a stop waits for them (TrackingCmdlet), and the
    /// ambient scope would cost every tracked event an AsyncLocal switch for nothing.
    /// </summary>
    private protected virtual bool Stoppable => true;

    /// <summary>Cancels the statement a step is running; the step then ends as a stopped pipeline, its writes rolled back.</summary>
    protected override void StopProcessing()
    {
        try { _stopping.Cancel(); }
        catch (ObjectDisposedException) { /* the command already ended */ }
    }

    /// <summary>PowerShell disposes a command that is IDisposable when its pipeline ends, after any stop.</summary>
    public void Dispose()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
    }

    private StoreCancellation.Scope? EnterStoppable() => Stoppable ? StoreCancellation.Enter(_stopping.Token) : null;

    /// <summary>A step that ended because the pipeline was stopped ends the command as PowerShell expects, with nothing reported.</summary>
    private PipelineStoppedException StoppedPipeline(OperationCanceledException e) => new(e.Message);

    internal UsageSession Session => UsageSession.Current;

    /// <summary>The session's store; the first use in a command names it in a verbose line.</summary>
    internal IUsageStore Store
    {
        get
        {
            var store = Session.Store;
            if (!_storeNamed)
                NameStore(store);
            return store;
        }
    }

    // ---------------------------------------------------------------- -Verbose (issue 17 item 7)

    // Started when PowerShell creates the command, before binding: the time a user waits for.
    private readonly long _started = Stopwatch.GetTimestamp();
    // The pipeline thread: verbose lines may be written only from it (chunks are written on workers).
    private readonly int _pipelineThread = System.Environment.CurrentManagedThreadId;
    private bool _storeNamed;

    /// <summary>
    /// Every command's end: the command's own <see cref="Finish"/>, then one verbose line with the
    /// time taken (and the store, when the command did not open it). Sealed so that no command can
    /// leave the line out; commands override <see cref="Finish"/> instead.
    /// </summary>
    protected sealed override void EndProcessing()
    {
        Finish();
        if (!VerboseWanted)
            return;
        if (!_storeNamed)
            WriteVerbose($"Store: {DescribeCurrentTarget()} (the session's current store).");
        WriteVerbose($"{MyInvocation.MyCommand.Name} done in {Stopwatch.GetElapsedTime(_started).TotalMilliseconds:N0} ms; {_written:N0} object(s) written to the pipeline.");
    }

    // Objects this command wrote to the pipeline: the rows a reader read, for the closing line.
    private long _written;

    /// <summary>
    /// PSCmdlet.WriteObject, counted for the closing verbose line. Hiding rather than a wrapper
    /// with a new name: every command's WriteObject call resolves here without being touched.
    /// </summary>
    internal new void WriteObject(object? sendToPipeline)
    {
        if (_written == 0)
            ModuleViews.EnsureLoaded(Session);
        _written++;
        base.WriteObject(sendToPipeline);
    }

    /// <inheritdoc cref="WriteObject(object?)"/>
    internal new void WriteObject(object? sendToPipeline, bool enumerateCollection)
    {
        if (!enumerateCollection || sendToPipeline is not System.Collections.IEnumerable items || sendToPipeline is string or System.Collections.IDictionary)
        {
            WriteObject(sendToPipeline);
            return;
        }
        foreach (var item in items)
            WriteObject(item);
    }

    /// <summary>What a command does once its input has ended (PowerShell's EndProcessing).</summary>
    private protected virtual void Finish() { }

    /// <summary>
    /// Whether verbose lines are shown or collected (-Verbose, or $VerbosePreference): lines that
    /// cost work to build (a store's description) are built only then. Verbose text is for people:
    /// numbers in it are formatted in the current culture, as PowerShell's own verbose lines are.
    /// </summary>
    internal bool VerboseWanted
    {
        get
        {
            if (MyInvocation.BoundParameters.TryGetValue("Verbose", out var given))
                return given is SwitchParameter { IsPresent: true } || given is true;
            return SessionState.PSVariable.GetValue("VerbosePreference") is ActionPreference preference
                && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
        }
    }

    private HashSet<string>? _verboseWritten;

    /// <summary>A verbose line written once per command, however often the step that says it runs (per piped object).</summary>
    internal void VerboseOnce(string line)
    {
        if ((_verboseWritten ??= new HashSet<string>(StringComparer.Ordinal)).Add(line))
            WriteVerbose(line);
    }

    /// <summary>An instant in a verbose line: ISO 8601 in UTC, the form every time is written in.</summary>
    internal static string Instant(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Names the store a command works on, once per command, the first time it is used.</summary>
    internal void NameStore(IUsageStore store)
    {
        if (_storeNamed || System.Environment.CurrentManagedThreadId != _pipelineThread)
            return;
        _storeNamed = true;
        WriteVerbose($"Store: {store.Backend} at {store.Location}{(store.CustomerScope is { } scope ? $", scoped to customer {scope}" : "")}.");
    }

    // The store a command that never opened it would use: a SQLite file's full path, or
    // PostgreSQL's host, port and database (never the connection string, which may hold a password).
    private string DescribeCurrentTarget()
    {
        var target = Session.CurrentTarget;
        return target.Backend == UsageStoreBackend.Sqlite
            ? $"Sqlite at {Path.GetFullPath(target.Address, CurrentDirectory())}"
            : $"PostgreSql at {UsageStores.Describe(target)}";
    }

    internal EnvironmentSettings Environment => Session.Environment;

    internal DateTimeOffset Now => Session.Time.GetUtcNow();

    /// <summary>
    /// The initial value of a -CustomerId property that can be bound from the pipeline: "not
    /// given". PowerShell reads such a parameter's value before it binds it from the first piped
    /// object and restores that value before each later object, so a piped object without a
    /// CustomerId property gets this back, while one whose CustomerId is $null gets null.
    /// MyInvocation.BoundParameters cannot tell the two apart: it keeps the previous object's value.
    /// Compared by reference, so no text a caller types can pass for it.
    /// </summary>
    internal static readonly string NotGivenCustomerId = new('\0', 1);

    /// <summary>
    /// The initial value of a reader's -CustomerId list (string[]), for the same reason as
    /// <see cref="NotGivenCustomerId"/>: "not given" (the default customer), told apart by
    /// reference from a given $null or empty list, which is InvalidCustomerId.
    /// </summary>
    internal static readonly string[] NotGivenCustomerIds = { NotGivenCustomerId };

    /// <summary>
    /// Each customer a -CustomerId list names, one at a time, as <see cref="GivenCustomerId"/> reads
    /// it: the list not given is the one "not given" entry (the default customer); a list given as
    /// $null or @() is one null entry, which that method refuses as InvalidCustomerId. Read per
    /// pipeline record: the list is the current piped object's CustomerId.
    /// </summary>
    internal static IReadOnlyList<string?> EachCustomerId(string[]? parameter) =>
        ReferenceEquals(parameter, NotGivenCustomerIds) ? NotGivenCustomerIds
        : parameter is { Length: > 0 } ? parameter
        : new string?[] { null };

    /// <summary>
    /// -CustomerId as the caller gave it, or null when it was not given at all (then the defaults
    /// apply). Given as '', blank or $null it is InvalidCustomerId: usually an unset variable, and
    /// falling back to the default customer would bill the wrong one.
    /// </summary>
    internal string? GivenCustomerId(string? parameter)
    {
        if (ReferenceEquals(parameter, NotGivenCustomerId))
            return null;
        if (!string.IsNullOrWhiteSpace(parameter))
            return parameter;
        // Null also when the property was never bound (properties without the sentinel).
        if (parameter is null && !MyInvocation.BoundParameters.ContainsKey("CustomerId"))
            return null;
        throw CustomerIdResolver.Blank(parameter);
    }

    /// <summary>The customer this command acts for (parameter, session, environment, ./.env).</summary>
    internal string ResolveCustomerId(string? parameter) =>
        CustomerIdResolver.Resolve(GivenCustomerId(parameter), Session.CustomerId, Environment, CurrentDirectory);

    /// <summary>The default customer (session, environment, ./.env), for a command not given one.</summary>
    internal string DefaultCustomerId() =>
        CustomerIdResolver.Resolve(null, Session.CustomerId, Environment, CurrentDirectory);

    /// <summary>
    /// A parameter's value as an engine change's part when the caller bound it, else null (the
    /// engine keeps the stored value). Bound is not "non-null": a bound $null or '' reaches the
    /// engine, which checks it like any value, and never falls back to the stored one.
    /// </summary>
    internal Engine.Given<T>? IfBound<T>(string parameter, Func<T> value) =>
        MyInvocation.BoundParameters.ContainsKey(parameter) ? new Engine.Given<T>(value()) : null;

    internal string CurrentDirectory() => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    /// <summary>The zone for calendar buckets and offset-less times: -TimeZone, the session's, $env:NSELF_USAGE_TIMEZONE, else UTC.</summary>
    internal TimeZoneInfo ResolveZone(string? parameter) =>
        TimeZones.Find(parameter ?? Session.TimeZone ?? Environment.TimeZone);

    internal static DateTimeOffset ToInstant(object value, TimeZoneInfo zone, TimeBound bound = TimeBound.Start) =>
        TimeInput.ToInstant(PowerShellValues.Unwrap(value)!, zone, bound);

    /// <summary>Whose usage and which services a read covers: one customer (the default one) or all.</summary>
    internal Engine.Storage.UsageFilter Filter(string? customerId, bool allCustomers, IEnumerable<string>? services)
    {
        if (allCustomers && GivenCustomerId(customerId) is not null)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "Use either -CustomerId or -AllCustomers, not both.", customerId);
        var customer = allCustomers ? null : Engine.Ingestion.TextRules.CustomerId(ResolveCustomerId(customerId));
        IReadOnlyList<string>? names = null;
        if (services?.ToList() is { Count: > 0 } wanted)
        {
            var catalog = Store.GetServices();
            names = wanted.Select(name => catalog.TryFind(name, out var s) ? s.Name : ReadableService(name)).Distinct().ToList();
        }
        VerboseOnce($"Customer: {customer ?? "every customer"}; services: {(names is null ? "all" : string.Join(", ", names))}.");
        return new Engine.Storage.UsageFilter(customer, names);
    }

    /// <summary>
    /// A -Service filter of a read that names no registered service: nself's tools store usage under
    /// any name, and a read must be able to ask for it. A well-formed name is read as given (a
    /// malformed one is still InvalidService); the warning, once per name and session, lists the
    /// known services, since the name may be a typo, and how to price it.
    /// </summary>
    private string ReadableService(string name)
    {
        var catalog = Store.GetServices(refresh: true);
        if (catalog.TryFind(name, out var registered))
            return registered.Name;
        var wellFormed = Engine.Ingestion.TextRules.ServiceName(name);
        if (Session.WarnedUnregistered.Add(wellFormed))
            WriteWarning($"Service '{wellFormed}' is not registered: reading the usage stored under that name, if any, with no unit and no price. "
                + $"Known services: {string.Join(", ", catalog.All.Select(s => s.Name).Order(StringComparer.Ordinal))}. "
                + $"Price it with: {Engine.Ingestion.UnregisteredServices.Fix(wellFormed)}");
        return wellFormed;
    }

    /// <summary>
    /// ShouldProcess for an action of a command whose ConfirmImpact is High for another of its
    /// actions (Set-BillingSubscription -Cancel, Clear-UsageBatch -Discard): PowerShell has one
    /// impact per cmdlet, so the routine action asks only when it would at its own
    /// <paramref name="impact"/> ($ConfirmPreference at or below it) or when -Confirm or -WhatIf
    /// asks; otherwise it goes ahead without the prompt the cmdlet's High impact would bring.
    /// </summary>
    internal bool ShouldProcessAt(ConfirmImpact impact, string target, string action)
    {
        var bound = MyInvocation.BoundParameters;
        if (bound.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: true })
            return ShouldProcess(target, action);
        if (bound.TryGetValue("WhatIf", out var whatIf) ? whatIf is SwitchParameter { IsPresent: true } : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")))
            return ShouldProcess(target, action);
        var preference = LanguagePrimitives.TryConvertTo<ConfirmImpact>(GetVariableValue("ConfirmPreference"), System.Globalization.CultureInfo.InvariantCulture, out var p) ? p : ConfirmImpact.High;
        if (!bound.ContainsKey("Confirm") && preference != ConfirmImpact.None && impact >= preference)
            return ShouldProcess(target, action);
        // The line ShouldProcess writes with -Verbose, so the routine action reads as it did.
        WriteVerbose($"Performing the operation \"{action}\" on target \"{target}\".");
        return true;
    }

    /// <summary>Reports an engine failure as a non-terminating error record.</summary>
    internal void WriteUsageError(UsageException e) => WriteError(e.ToErrorRecord());

    /// <summary>
    /// Whether this command's steps can read stored usage of a service the module never
    /// registered (nself's own tools store any name), and so open a watch for such names to warn
    /// about. Writers say no: they take registered services only, and the watch would cost every
    /// tracking call an ambient (AsyncLocal) switch for nothing.
    /// </summary>
    private protected virtual bool ReadsUnregisteredServices => true;

    private Engine.Ingestion.UnregisteredServices? WatchUnregistered() =>
        ReadsUnregisteredServices ? Engine.Ingestion.UnregisteredServices.Watch() : null;

    /// <summary>Runs one step; an engine failure becomes an error record and the pipeline goes on.</summary>
    internal bool Try(Action step)
    {
        using var unregistered = WatchUnregistered();
        using var stoppable = EnterStoppable();
        try
        {
            step();
            return true;
        }
        catch (UsageException e)
        {
            WriteUsageError(e);
            return false;
        }
        catch (OperationCanceledException e) when (_stopping.IsCancellationRequested)
        {
            throw StoppedPipeline(e);
        }
        finally
        {
            WarnUnregistered(unregistered);
        }
    }

    /// <summary>Runs a step the command cannot go on without; a failure ends the command.</summary>
    internal T Require<T>(Func<T> step)
    {
        using var unregistered = WatchUnregistered();
        using var stoppable = EnterStoppable();
        try
        {
            return step();
        }
        catch (OperationCanceledException e) when (_stopping.IsCancellationRequested)
        {
            throw StoppedPipeline(e);
        }
        catch (UsageException e)
        {
            WarnUnregistered(unregistered);
            ThrowTerminatingError(e.ToErrorRecord());
            throw; // not reached: ThrowTerminatingError always throws
        }
        finally
        {
            WarnUnregistered(unregistered);
        }
    }

    /// <summary>
    /// One warning per unregistered service and session: usage stored by nself's own tools under a
    /// name the module never registered is reported without a unit or price until it is registered.
    /// </summary>
    private void WarnUnregistered(Engine.Ingestion.UnregisteredServices? watch)
    {
        if (watch is null)
            return;
        foreach (var name in watch.Met)
            if (Session.WarnedUnregistered.Add(name))
                WriteWarning($"Service '{name}' has stored usage but is not registered, so it has no unit and no price (cost 0, unpriced). "
                    + $"Price it with: {Engine.Ingestion.UnregisteredServices.Fix(name)}");
    }
}
