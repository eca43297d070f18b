using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Testing;

/// <summary>Puts a WireMock.Net server into a healthy or a broken state for a path.</summary>
public static class UpstreamFaults
{
    private const string HealthyBody = """{"data":[{"id":1}]}""";
    private const string UnavailableBody = """{"error":{"code":"service_unavailable"}}""";

    /// <summary>Answers GET <paramref name="path"/> with 200 and a JSON body, replacing earlier mappings.</summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="path">The path.</param>
    /// <param name="json">The body.</param>
    public static void ServeHealthy(this WireMockServer server, string path, string json = HealthyBody)
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
        server.Given(Request.Create().WithPath(path)).RespondWith(Json(200, HealthyBody).WithDelay(delay));
    }

    /// <summary>Makes every method on <paramref name="path"/> fail the way <paramref name="scenario"/> says.</summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="scenario">The fault.</param>
    /// <param name="path">The path.</param>
    /// <param name="timeProvider">The clock a token's expiry and the quota's refill are judged by (the integration's own, in a test with fake time). Defaults to <see cref="TimeProvider.System"/>.</param>
    public static void Inject(this WireMockServer server, FaultScenario scenario, string path, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        server.Reset();
        var request = Request.Create().WithPath(path);
        switch (scenario)
        {
            case FaultScenario.Slow:
                server.InjectSlow(path, TimeSpan.FromSeconds(5));
                break;
            case FaultScenario.Down or FaultScenario.FailoverPrimaryDown or FaultScenario.FailoverAllDown:
                server.Given(request).RespondWith(Json(503, UnavailableBody));
                break;
            case FaultScenario.TokenExpired:
                server.InjectTokenExpiry(path, (timeProvider ?? TimeProvider.System).GetUtcNow(), timeProvider);
                break;
            case FaultScenario.RateLimited:
                server.InjectTokenBucket(path, new TokenBucketQuota(2, TimeSpan.FromMilliseconds(500), timeProvider), reportBudget: false);
                break;
            case FaultScenario.ConnectionRefused:
                server.Stop(); // WireMock cannot refuse on a live port; a stopped server really does
                break;
            case FaultScenario.MalformedJson:
                server.Given(request).RespondWith(Json(200, """{"data":[{"id":1},{"id":"""));
                break;
            case FaultScenario.MissingFields:
                server.Given(request).RespondWith(Json(200, """{"meta":{"page":1,"total":0}}"""));
                break;
            case FaultScenario.QuotaExhausted:
                server.Given(request).RespondWith(Json(429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"""));
                break;
            case FaultScenario.Malformed:
                server.Given(request).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/html").WithBody("<html><body>Service temporarily moved</body></html>"));
                break;
            case FaultScenario.Flapping:
                server.Given(request).InScenario("flapping").WillSetStateTo("up").RespondWith(Json(503, UnavailableBody));
                server.Given(request).InScenario("flapping").WhenStateIs("up").WillSetStateTo("down").RespondWith(Json(200, HealthyBody));
                server.Given(request).InScenario("flapping").WhenStateIs("down").WillSetStateTo("up").RespondWith(Json(503, UnavailableBody));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scenario), scenario, "Unknown fault scenario.");
        }
    }

    /// <summary>
    /// Serves <paramref name="path"/> healthily until <paramref name="expiresAt"/>, then answers every request 401
    /// (<c>invalid_api_key</c>): a token that expires at a given moment. Drive it with a fake clock in tests.
    /// </summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="path">The path.</param>
    /// <param name="expiresAt">The moment the token stops working.</param>
    /// <param name="timeProvider">The clock the moment is judged by. Defaults to <see cref="TimeProvider.System"/>.</param>
    public static void InjectTokenExpiry(this WireMockServer server, string path, DateTimeOffset expiresAt, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var clock = timeProvider ?? TimeProvider.System;
        server.Reset();
        server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithCallback(_ => clock.GetUtcNow() >= expiresAt
            ? Message(401, """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}""")
            : Message(200, HealthyBody)));
    }

    /// <summary>
    /// Puts <paramref name="path"/> behind a request quota: each request takes a token from <paramref name="quota"/>
    /// and is answered 200 with OpenAI's <c>x-ratelimit-limit|remaining|reset-requests</c>, or 429 with the exact <c>retry-after-ms</c>
    /// and a whole-second <c>Retry-After</c> when the bucket is empty.
    /// </summary>
    /// <param name="server">The server standing in for the API.</param>
    /// <param name="path">The path.</param>
    /// <param name="quota">The bucket; read its <see cref="TokenBucketQuota.Accepted"/> and <see cref="TokenBucketQuota.Refused"/> afterwards.</param>
    /// <param name="reportBudget">
    /// Whether 200s carry the <c>x-ratelimit-*</c> budget. With it, a well-paced client never meets a 429; without
    /// it, only the 429s and their hints tell the client to slow down.
    /// </param>
    public static void InjectTokenBucket(this WireMockServer server, string path, TokenBucketQuota quota, bool reportBudget = true)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(quota);
        server.Reset();
        server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithCallback(_ =>
        {
            if (quota.TryTake(out var wait))
            {
                var served = Message(200, HealthyBody);
                if (!reportBudget)
                {
                    return served;
                }

                served.AddHeader("x-ratelimit-limit-requests", quota.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
                served.AddHeader("x-ratelimit-remaining-requests", quota.Remaining.ToString(System.Globalization.CultureInfo.InvariantCulture));
                served.AddHeader("x-ratelimit-reset-requests", Math.Ceiling(quota.UntilFull.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) + "ms");
                return served;
            }

            var refused = Message(429, """{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}""");
            refused.AddHeader("retry-after-ms", Math.Ceiling(wait.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
            refused.AddHeader("Retry-After", Math.Ceiling(wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return refused;
        }));
    }

    private static ResponseMessage Message(int status, string json)
    {
        var message = new ResponseMessage
        {
            StatusCode = status,
            BodyData = new WireMock.Util.BodyData { BodyAsString = json, DetectedBodyType = WireMock.Types.BodyType.String, Encoding = System.Text.Encoding.UTF8 },
        };
        message.AddHeader("Content-Type", "application/json");
        return message;
    }

    private static IResponseBuilder Json(int status, string body) =>
        Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
}
