using System.Globalization;
using FsCheck;
using FsCheck.Fluent;

namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>
/// How every differential suite runs its property: how many cases (NSELF_DIFFERENTIAL_SEQUENCES,
/// else the suite's own default), which (NSELF_DIFFERENTIAL_REPLAY="seed,gamma", printed by a
/// failure, reruns exactly that case), and a failure that says where the engine and the model part.
/// </summary>
public static class DifferentialRun
{
    /// <summary>The number of cases a run checks: NSELF_DIFFERENTIAL_SEQUENCES when it is a positive whole number, else <paramref name="byDefault"/>.</summary>
    public static int Count(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("NSELF_DIFFERENTIAL_SEQUENCES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : byDefault;

    /// <summary>
    /// Checks <paramref name="differs"/> (null when engine and model agree, else what differs) on
    /// <paramref name="count"/> generated cases; <paramref name="seed"/> fixes the first case's
    /// generator so that a run repeats (NSELF_DIFFERENTIAL_REPLAY wins over it).
    /// </summary>
    public static void Check<T>(Arbitrary<T> cases, Func<T, string?> differs, int count, (ulong Seed, ulong Gamma)? seed = null)
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(count).WithQuietOnSuccess(true);
        if (Environment.GetEnvironmentVariable("NSELF_DIFFERENTIAL_REPLAY") is { Length: > 0 } replay)
        {
            var parts = replay.Trim('(', ')', ' ').Split(',');
            seed = (ulong.Parse(parts[0].Trim(), CultureInfo.InvariantCulture), ulong.Parse(parts[1].Trim(), CultureInfo.InvariantCulture));
        }
        if (seed is { } s)
            config = config.WithReplay(new Replay(new Rnd(s.Seed, s.Gamma), Microsoft.FSharp.Core.FSharpOption<int>.None));
        Prop.ForAll(cases, c => differs(c) is { } what ? false.Label(what) : true.ToProperty()).Check(config);
    }
}
