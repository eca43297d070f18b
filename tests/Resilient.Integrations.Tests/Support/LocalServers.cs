using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Net.Sockets;

namespace Resilient.Integrations.Tests.Support;

/// <summary>What the real test servers (PostgreSQL, Redis) share: how they pick a port, how a missing one is reported.</summary>
internal static class LocalServers
{
    /// <summary>
    /// A free port below the ephemeral range (Linux: 32768 and up): a private server that is stopped and started again
    /// must find its port free, and a parallel test's outgoing connection could take an ephemeral one meanwhile.
    /// </summary>
    public static int FreePort()
    {
        for (int attempt = 0; ; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
            }
        }
    }

    /// <summary>Skips the test when a server is missing, or fails it under CI, where a skip hides a gap.</summary>
    [DoesNotReturn]
    public static void SkipOrFail(string reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"under CI a skip is a failure: {reason}");
        }

        Assert.Skip($"skipped: {reason}");
    }
}
