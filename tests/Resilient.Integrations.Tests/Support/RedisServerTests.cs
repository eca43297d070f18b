using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace Resilient.Integrations.Tests.Support;

public sealed class RedisServerTests
{
    [Fact]
    public async Task RequireAsync_SharedServer_AnswersPingAndKeepsAPrefixedKey()
    {
        var server = await RedisServer.RequireAsync();
        var prefix = server.NewPrefix();

        await using var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
        var database = connection.GetDatabase();

        await database.PingAsync();
        Assert.True(await database.StringSetAsync(prefix + "k", "v"));
        Assert.Equal("v", await database.StringGetAsync(prefix + "k"));
    }

    [Fact]
    public async Task NewPrefix_CalledTwice_GivesTwoPrefixes()
    {
        var server = await RedisServer.RequireAsync();

        var first = server.NewPrefix();
        var second = server.NewPrefix();

        Assert.NotEqual(first, second);
        Assert.StartsWith("t-", first, StringComparison.Ordinal);
        Assert.EndsWith(":", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopAsync_ThenStartAsync_RefusedThenAnswersOnSamePortEmpty()
    {
        await using var server = await RedisServer.StartPrivateAsync();
        var port = server.Port;
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration))
        {
            Assert.True(await connection.GetDatabase().StringSetAsync("kept", "1"));
        }

        await server.StopAsync();
        var refused = await Assert.ThrowsAsync<SocketException>(() => ConnectAsync(port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        Assert.Null(await RedisServer.ProcessIdAsync(port));

        await server.StartAsync();
        Assert.Equal(port, server.Port);
        Assert.Equal(server.ProcessId, await RedisServer.ProcessIdAsync(port));
        await using (var connection = await ConnectionMultiplexer.ConnectAsync(server.Configuration))
        {
            await connection.GetDatabase().PingAsync();
            Assert.False(await connection.GetDatabase().KeyExistsAsync("kept")); // persistence off
        }
    }

    [Fact]
    public async Task StartAsync_PortAnsweredByAnotherRedis_RefusesIt()
    {
        await using var server = await RedisServer.StartPrivateAsync();
        await server.StopAsync();
        using var foreign = StartForeign(server.Port);
        try
        {
            using var bounded = Eventually.Bounded();
            while (await RedisServer.ProcessIdAsync(server.Port) != foreign.Id)
            {
                await Task.Delay(10, bounded.Token);
            }

            var error = await Assert.ThrowsAsync<InvalidOperationException>(server.StartAsync);

            Assert.Contains($"another Redis (pid {foreign.Id})", error.Message, StringComparison.Ordinal);
            Assert.Null(server.ProcessId);
        }
        finally
        {
            foreign.Kill();
            await foreign.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await server.StartAsync();
        Assert.Equal(server.ProcessId, await RedisServer.ProcessIdAsync(server.Port));
    }

    [Fact]
    public async Task StopAsync_SharedServer_Throws()
    {
        var server = await RedisServer.RequireAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(server.StopAsync);
    }

    private static async Task ConnectAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
    }

    // A redis-server started by hand, as somebody else's would be: the fixture does not know its PID.
    private static Process StartForeign(int port)
    {
        var foreign = Process.Start(new ProcessStartInfo(RedisServer.FindBinary()!,
            ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        foreign.BeginOutputReadLine(); // its log goes to stdout: drained so it never blocks
        foreign.BeginErrorReadLine();
        return foreign;
    }
}
