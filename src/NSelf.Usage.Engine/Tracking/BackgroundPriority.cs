using System.Runtime.InteropServices;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>Lowers the CPU priority of a background thread, where the platform allows it.</summary>
internal static partial class BackgroundPriority
{
    // Nice 10: next to busy normal threads the thread still gets about a tenth of a core, so a
    // spool is delivered during a long busy run too, only more slowly.
    private const int Nice = 10;

    public static void LowerCurrentThread()
    {
        try
        {
            if (OperatingSystem.IsLinux())
                // On Linux a thread id given to setpriority changes that thread alone (.NET does not
                // apply Thread.Priority there). Lowering needs no privilege.
                _ = SetPriority(0 /* PRIO_PROCESS */, GetThreadId(), Nice);
            else
                Thread.CurrentThread.Priority = ThreadPriority.BelowNormal;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or PlatformNotSupportedException or ThreadStateException)
        {
            // Only a preference: the thread runs at normal priority.
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority")]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
