namespace NSelf.Usage.Engine;

/// <summary>
/// A value a command was given, as opposed to one it left out (which keeps what is stored), with
/// the value as the caller wrote it for an error's TargetObject.
/// </summary>
public readonly record struct Given<T>(T Value, object? AsGiven = null);
