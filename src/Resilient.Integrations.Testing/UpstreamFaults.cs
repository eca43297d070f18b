using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Testing;

/// <summary>Puts a WireMock.Net server into a healthy or a broken state for a path.</summary>
public static class UpstreamFaults
{
    /// <summary>Answers GET <paramref name="path"/> with 200 and a JSON body, replacing earlier mappings.</summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="path">The path.</param>
    /// <param name="json">The body.</param>
    public static void ServeHealthy(this WireMockServer server, string path, string json = """{"data":[{"id":1}]}""")
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Given(Request.Create().WithPath(path).UsingGet()).RespondWith(Json(200, json));
        server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(Json(201, """{"ok":true}"""));
    }

    /// <summary>Makes <paramref name="path"/> answer 200, but only after <paramref name="delay"/>.</summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="path">The path.</param>
    /// <param name="delay">How long each answer takes.</param>
    public static void InjectSlow(this WireMockServer server, string path, TimeSpan delay)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        server.Given(Request.Create().WithPath(path)).RespondWith(Json(200, """{"data":[{"id":1}]}""").WithDelay(delay));
    }

    /// <summary>Makes every method on <paramref name="path"/> fail the way <paramref name="scenario"/> says.</summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="scenario">The fault.</param>
    /// <param name="path">The path.</param>
    public static void Inject(this WireMockServer server, FaultScenario scenario, string path)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        var request = Request.Create().WithPath(path);
        switch (scenario)
        {
            case FaultScenario.Slow:
                server.InjectSlow(path, TimeSpan.FromSeconds(5));
                break;
            case FaultScenario.Down:
                server.Given(request).RespondWith(Json(503, """{"error":{"code":"service_unavailable"}}"""));
                break;
            case FaultScenario.TokenExpired:
                server.Given(request).RespondWith(Json(401, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"""));
                break;
            case FaultScenario.RateLimited:
                server.Given(request).RespondWith(Json(429, """{"error":{"code":"rate_limit_exceeded"}}""").WithHeader("retry-after-ms", "200").WithHeader("Retry-After", "1"));
                break;
            case FaultScenario.QuotaExhausted:
                server.Given(request).RespondWith(Json(429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"""));
                break;
            case FaultScenario.Malformed:
                server.Given(request).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html").WithBody("<html><body>Service temporarily moved</body></html>"));
                break;
            case FaultScenario.Flapping:
                server.Given(request).InScenario("flapping").WillSetStateTo("up").RespondWith(Json(503, """{"error":{"code":"service_unavailable"}}"""));
                server.Given(request).InScenario("flapping").WhenStateIs("up").WillSetStateTo("down").RespondWith(Json(200, """{"data":[{"id":1}]}"""));
                server.Given(request).InScenario("flapping").WhenStateIs("down").WillSetStateTo("up").RespondWith(Json(503, """{"error":{"code":"service_unavailable"}}"""));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "Unknown fault scenario.");
        }
    }

    private static IResponseBuilder Json(int status, string body) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
}
