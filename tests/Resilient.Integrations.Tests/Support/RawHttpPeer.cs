using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// A loopback TCP peer for what WireMock.Net cannot do promptly: hang without answering, reset the
/// connection, or break a body off mid-way. Disposing it closes every connection at once.
/// </summary>
internal sealed class RawHttpPeer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private int _connections;
    private int _requests;

    private RawHttpPeer(Func<Socket, CancellationToken, Task> behaviour)
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                lock (_sockets)
                {
                    _sockets.Add(socket);
                }

                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        if (await ReadRequestHeadAsync(socket, _stop.Token))
                        {
                            Interlocked.Increment(ref _requests);
                            await behaviour(socket, _stop.Token);
                        }
                    }
                    catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                    {
                    }
                });
            }
        });
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>
    /// Requests whose head has arrived: the attempts on the wire. A connection accepted says less: the client may
    /// abandon the request it opened the connection for and send the next one on it.
    /// </summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Accepts the request and never answers.</summary>
    public static RawHttpPeer Hang() => new((_, ct) => Task.Delay(Timeout.Infinite, ct));

    /// <summary>Reads the request, then resets the connection (RST) without answering.</summary>
    public static RawHttpPeer Reset() => new((socket, _) =>
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
        return Task.CompletedTask;
    });

    /// <summary>Answers 200 with a Content-Length larger than the body it sends, then closes.</summary>
    public static RawHttpPeer TruncatedBody(string partialBody, int declaredLength) => new(async (socket, ct) =>
    {
        string head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declaredLength}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + partialBody), SocketFlags.None, ct);
        socket.Shutdown(SocketShutdown.Both);
        socket.Close();
    });

    /// <summary>Answers 200 declaring a Content-Length, sends part of the body and then stalls without closing.</summary>
    public static RawHttpPeer StalledBody(string partialBody, int declaredLength) => new(async (socket, ct) =>
    {
        string head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {declaredLength}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + partialBody), SocketFlags.None, ct);
        await Task.Delay(Timeout.Infinite, ct);
    });

    /// <summary>Answers 200 as an open server-sent-event stream: sends the given events, then stalls without closing.</summary>
    public static RawHttpPeer OpenEventStream(string events) => new(async (socket, ct) =>
    {
        string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + events), SocketFlags.None, ct);
        await Task.Delay(Timeout.Infinite, ct);
    });

    /// <summary>
    /// Answers 200 with the given header lines and body bytes. With <paramref name="thenStall"/> the connection then
    /// stays open without another byte; otherwise it closes, which ends a body sent without a length.
    /// </summary>
    public static RawHttpPeer Answer(string headerLines, byte[] body, bool thenStall) => new(async (socket, ct) =>
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\n{headerLines}\r\n\r\n"), SocketFlags.None, ct);
        await socket.SendAsync(body, SocketFlags.None, ct);
        if (thenStall)
        {
            await Task.Delay(Timeout.Infinite, ct);
        }

        socket.Shutdown(SocketShutdown.Both);
        socket.Close();
    });

    /// <summary>Answers 200 with a body that never ends: <paramref name="chunk"/> after <paramref name="first"/>, over and over, as fast as the client reads.</summary>
    public static RawHttpPeer Endless(string headerLines, byte[] first, byte[] chunk) => new(async (socket, ct) =>
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\n{headerLines}\r\n\r\n"), SocketFlags.None, ct);
        await socket.SendAsync(first, SocketFlags.None, ct);
        while (true)
        {
            await socket.SendAsync(chunk, SocketFlags.None, ct);
        }
    });

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        _stop.Dispose();
    }

    /// <summary>Reads up to the end of a request head; false when the client closed the connection first.</summary>
    private static async Task<bool> ReadRequestHeadAsync(Socket socket, CancellationToken ct)
    {
        var buffer = new byte[8192];
        var seen = new StringBuilder();
        while (!seen.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (read == 0)
            {
                return false;
            }

            seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return true;
    }
}
