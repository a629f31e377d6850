using System.Net;
using System.Net.Sockets;

namespace NSelf.Usage.Engine.Tests.Mail;

/// <summary>
/// A loopback port whose connects are never answered, standing in for an unroutable host: a
/// listener with a backlog of 0 whose one queue slot is taken, so the kernel drops further SYNs.
/// (Tests send nothing off this machine, so no real unroutable address is used.)
/// </summary>
public sealed class UnansweredPort : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _queued = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public UnansweredPort()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        _queued.Connect(_listener.LocalEndPoint!);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
    }

    public string Host => "127.0.0.1";

    public int Port { get; }

    public void Dispose()
    {
        _queued.Dispose();
        _listener.Dispose();
    }
}
