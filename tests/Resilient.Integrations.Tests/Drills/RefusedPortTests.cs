using System.Net.Sockets;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Drills;

public sealed class RefusedPortTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Hold_Connect_IsRefused()
    {
        using var refused = RefusedPort.Hold();
        using var client = new HttpClient();

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(refused.Url, Ct));

        Assert.Equal(HttpRequestError.ConnectionError, ex.HttpRequestError);
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(ex.InnerException).SocketErrorCode);
    }

    [Fact]
    public void Hold_AnotherServerBindsThePort_FailsWhileHeld()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() || OperatingSystem.IsWindows(), "the hold is exclusive on Linux and Windows only");
        using var refused = RefusedPort.Hold();

        var ex = Record.Exception(() => LoopbackServer.Start(refused.Port).Dispose());

        Assert.NotNull(ex);
        Assert.Contains("address already in use", ex.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
