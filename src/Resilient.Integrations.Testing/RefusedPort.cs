using System.Net;
using System.Net.Sockets;

namespace Resilient.Integrations.Testing;

/// <summary>
/// A loopback port that refuses every connection and that no other server can take while this is held:
/// the port is bound but never listened on. A port merely found free and released can be handed to a
/// parallel test's server a moment later, which then answers where a refusal was expected.
/// </summary>
/// <remarks>On Linux and Windows no other socket can bind the held port; elsewhere the hold is best effort.</remarks>
public sealed class RefusedPort : IDisposable
{
    private readonly Socket _socket;

    private RefusedPort(Socket socket)
    {
        _socket = socket;
        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        Url = new Uri($"http://127.0.0.1:{Port}");
    }

    /// <summary>Gets the port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>Gets the port's base address, <c>http://127.0.0.1:{port}</c>.</summary>
    public Uri Url { get; }

    /// <summary>Holds a fresh loopback port that refuses connections.</summary>
    /// <returns>The held port; dispose it to release the port.</returns>
    public static RefusedPort Hold() => TryHold(0) ?? throw new InvalidOperationException("No loopback port could be held.");

    /// <summary>Holds <paramref name="port"/> so that it refuses connections, unless something else has it.</summary>
    /// <returns>The held port, or <see langword="null"/> when another socket already has it.</returns>
    internal static RefusedPort? TryHold(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            if (OperatingSystem.IsLinux())
            {
                // .NET binds with SO_REUSEADDR on Unix, which lets a listener share a port nobody listens on yet.
                // Clearing it after the bind makes the port ours alone.
                const int SolSocket = 1, SoReuseAddr = 2;
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(0));
            }

            return new RefusedPort(socket);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            return null;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Releases the port.</summary>
    public void Dispose() => _socket.Dispose();
}
