using WireMock.Server;
using WireMock.Settings;

namespace Resilient.Integrations.Tests.Support;

/// <summary>WireMock.Net servers bound to 127.0.0.1 only.</summary>
internal static class LoopbackServer
{
    // Port 0: the server binds a port of its own choosing, so no two servers can race for one port found free.
    public static WireMockServer Start(int port = 0) =>
        WireMockServer.Start(new WireMockServerSettings { Urls = [$"http://127.0.0.1:{port}"] });
}
