using System.Management.Automation;

namespace NSelf.Usage.Internal;

internal static class ErrorCategories
{
    public static ErrorCategory ToCategory(this UsageErrorKind kind) => kind switch
    {
        UsageErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        UsageErrorKind.InvalidData => ErrorCategory.InvalidData,
        UsageErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        UsageErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        UsageErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        UsageErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        UsageErrorKind.WriteError => ErrorCategory.WriteError,
        UsageErrorKind.ReadError => ErrorCategory.ReadError,
        UsageErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        UsageErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        _ => ErrorCategory.NotSpecified,
    };

    public static ErrorRecord ToErrorRecord(this UsageException e) =>
        new(e, e.ErrorId, e.Kind.ToCategory(), e.Target);
}
