namespace NSelf.Usage.Engine.Storage;

/// <summary>
/// The stop signal of the command running on this thread (Ctrl+C, or a downstream
/// <c>Select-Object -First</c>), as an ambient value the store layer reads where statements run.
/// </summary>
/// <remarks>
/// Ambient rather than a parameter: the store contract has some fifty methods, reached through
/// every engine service (reports, invoicing, quota checks, the archiver, the importer), and the
/// token matters only to the few places at the bottom that run a statement (<see cref="Sql.SqlSession"/>
/// and the stores' transactions). A parameter on each would change every signature for a value
/// none of them looks at, and a method added later would be uncancellable until someone threaded
/// it through. The cmdlet base enters the scope around each step and leaves it after, so the
/// value never outlives the command (docs/decisions-pending/i17-stop.md).
/// </remarks>
public static class StoreCancellation
{
    private static readonly AsyncLocal<CancellationToken> Ambient = new();

    /// <summary>The token of the command running now; <see cref="CancellationToken.None"/> outside any.</summary>
    public static CancellationToken Current => Ambient.Value;

    /// <summary>Makes <paramref name="token"/> the current one until the returned scope is disposed.</summary>
    public static Scope Enter(CancellationToken token)
    {
        var previous = Ambient.Value;
        Ambient.Value = token;
        return new Scope(previous);
    }

    /// <summary>Restores the token that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly CancellationToken _previous;

        internal Scope(CancellationToken previous) => _previous = previous;

        public void Dispose() => Ambient.Value = _previous;
    }

    /// <summary>
    /// Interrupts <paramref name="interrupt"/>'s statement when the current command is stopped,
    /// until the registration is disposed; throws at once when it is stopped already, so a loop
    /// over customers stops at its next statement. Costs nothing outside a stoppable command.
    /// </summary>
    internal static CancellationTokenRegistration Interrupting<T>(T target, Action<T> interrupt) where T : class
    {
        var token = Ambient.Value;
        if (!token.CanBeCanceled)
            return default;
        token.ThrowIfCancellationRequested();
        return token.UnsafeRegister(static state =>
        {
            var (target, interrupt) = ((T, Action<T>))state!;
            // Runs on the thread that stops the command: a failure to interrupt (the statement just
            // finished, the connection just closed) must not reach it, and leaves the statement to
            // end on its own.
            try { interrupt(target); }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or System.Data.Common.DbException or IOException) { }
        }, (target, interrupt));
    }

    /// <summary>Throws when the current command was stopped: a check per chunk of a bulk path, never per event.</summary>
    internal static void ThrowIfStopped() => Ambient.Value.ThrowIfCancellationRequested();

    /// <summary>
    /// The rows of <paramref name="source"/>, each after a look at the current command's stop: for
    /// work in memory over many rows (sorting a report's totals, pricing them), which no statement
    /// interrupt reaches. The token is read once, so a look costs a field read.
    /// </summary>
    internal static IEnumerable<T> UntilStopped<T>(this IEnumerable<T> source)
    {
        var token = Ambient.Value;
        if (!token.CanBeCanceled)
            return source;
        return Checked(source, token);

        static IEnumerable<T> Checked(IEnumerable<T> source, CancellationToken token)
        {
            foreach (var item in source)
            {
                token.ThrowIfCancellationRequested();
                yield return item;
            }
        }
    }

    /// <summary>
    /// A failure seen after the command was stopped is the stop itself (the interrupted statement
    /// failing, a rolled-back transaction): the caller reports a stopped pipeline, not a store failure.
    /// </summary>
    internal static OperationCanceledException? Stopped(Exception failure)
    {
        var token = Ambient.Value;
        if (!token.IsCancellationRequested || failure is OperationCanceledException)
            return null;
        return new OperationCanceledException("The command was stopped; its running statement was cancelled and nothing of it was kept.", failure, token);
    }
}
