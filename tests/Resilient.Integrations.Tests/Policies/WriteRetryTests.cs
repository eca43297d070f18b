using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Policies;

/// <summary>
/// A write is sent more than once only when that cannot duplicate anything: it carries an idempotency key, it is
/// declared safe to repeat, or the failure proves the server never acted on it. Attempts are counted from the
/// upstream's request log.
/// </summary>
public sealed class WriteRetryTests
{
    private const string Path = "/write";
    private const string QuotaBody = """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Respond(IntegrationHarness h, int status, string? body = null)
    {
        var response = Response.Create().WithStatusCode(status);
        response = body is null ? response : response.WithHeader("Content-Type", body.StartsWith('<') ? "text/html" : "application/json").WithBody(body);
        h.Server.Given(Request.Create().WithPath(Path)).RespondWith(response);
    }

    private static HttpRequestMessage Write(string method, string path = Path) => new(new HttpMethod(method), path)
    {
        Content = method is "GET" or "HEAD" ? null : JsonContent.Create(new { email = "ada@example.com" }),
    };

    private static async Task<Exception?> SendAsync(IntegrationHarness h, HttpRequestMessage request) =>
        await Record.ExceptionAsync(() => h.Clock.RunAsync(h.Client.SendAsync(request, Ct)));

    private static IEnumerable<string> KeysSeen(IntegrationHarness h) =>
        h.Server.LogEntries.Where(e => e.RequestMessage?.Path == Path)
            .Select(e => e.RequestMessage!.Headers!.TryGetValue(WritePolicy.DefaultIdempotencyKeyHeader, out var v) ? v.ToString()! : "");

    public static TheoryData<string, int, string?, FailureKind, int> AttemptsByMethodAndKind()
    {
        var data = new TheoryData<string, int, string?, FailureKind, int>();
        foreach (var method in new[] { "GET", "POST", "PUT", "PATCH", "DELETE" })
        {
            bool read = method == "GET";
            data.Add(method, 504, null, FailureKind.Timeout, read ? 2 : 1);             // may have been acted on
            data.Add(method, 503, null, FailureKind.Unavailable, read ? 3 : 1);         // a gateway may answer 503 after the origin acted
            data.Add(method, 500, null, FailureKind.Unavailable, read ? 3 : 1);
            data.Add(method, 529, null, FailureKind.Unavailable, 3);                    // overloaded: not processed
            data.Add(method, 429, null, FailureKind.RateLimit, 4);                      // rejected before processing
            data.Add(method, 401, null, FailureKind.Auth, 1);
            data.Add(method, 429, QuotaBody, FailureKind.QuotaExhausted, 1);
            data.Add(method, 200, "<html>maintenance</html>", FailureKind.BadResponse, 1);
            data.Add(method, 422, null, FailureKind.Rejected, 1);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AttemptsByMethodAndKind))]
    public async Task Send_WithoutIdempotencyKey_RepeatsOnlyReadsOrWhatWasNotActedOn(string method, int status, string? body, FailureKind kind, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, status, body);

        var error = await SendAsync(h, Write(method));

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(Path));
    }

    [Theory]
    [InlineData("POST", 504, 2)]
    [InlineData("POST", 503, 3)]
    [InlineData("PATCH", 503, 3)]
    [InlineData("DELETE", 500, 3)]
    public async Task Send_WriteWithCallersIdempotencyKey_RepeatedWithTheSameKey(string method, int status, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, status);
        var request = Write(method);
        request.Headers.Add("Idempotency-Key", "order-42");

        await SendAsync(h, request);

        Assert.Equal(attempts, h.UpstreamAttempts(Path));
        Assert.All(KeysSeen(h), key => Assert.Equal("order-42", key));
    }

    [Fact]
    public async Task Send_AddIdempotencyKeyOn_EveryAttemptCarriesOneGeneratedKey()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.AddIdempotencyKey = true);
        Respond(h, 503);

        await SendAsync(h, Write("POST"));

        Assert.Equal(3, h.UpstreamAttempts(Path));
        var key = Assert.Single(KeysSeen(h).Distinct());
        Assert.False(string.IsNullOrWhiteSpace(key));
    }

    [Fact]
    public async Task Send_AddIdempotencyKeyOn_CallersOwnKeyKept()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.AddIdempotencyKey = true);
        Respond(h, 503);
        var request = Write("POST");
        request.Headers.Add("Idempotency-Key", "caller-key");

        await SendAsync(h, request);

        Assert.Equal(["caller-key", "caller-key", "caller-key"], KeysSeen(h));
    }

    [Fact]
    public async Task Send_AddIdempotencyKeyOn_ReadsGetNoKey()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.AddIdempotencyKey = true);
        Respond(h, 503);

        await SendAsync(h, Write("GET"));

        Assert.Equal(["", "", ""], KeysSeen(h));
    }

    [Fact]
    public async Task Send_CustomIdempotencyHeader_AddedAndHonoured()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Writes.AddIdempotencyKey = true;
            o.Writes.IdempotencyKeyHeader = "X-Dedupe-Token";
        });
        Respond(h, 503);

        await SendAsync(h, Write("POST"));

        Assert.Equal(3, h.UpstreamAttempts(Path));
        Assert.All(h.Server.LogEntries, e => Assert.True(e.RequestMessage!.Headers!.ContainsKey("X-Dedupe-Token"), string.Join(",", e.RequestMessage!.Headers!.Keys)));
        Assert.Single(h.Server.LogEntries.Select(e => e.RequestMessage!.Headers!["X-Dedupe-Token"].Single()).Distinct()); // one key for every attempt
    }

    [Fact]
    public async Task Send_CallersKeyInTheCustomHeader_WriteRepeatedWithIt()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.IdempotencyKeyHeader = "X-Dedupe-Token");
        Respond(h, 503);
        var request = Write("POST");
        request.Headers.Add("X-Dedupe-Token", "order-42");

        await SendAsync(h, request);

        Assert.Equal(3, h.UpstreamAttempts(Path));
        Assert.Equal(["order-42"], h.Server.LogEntries.Select(e => e.RequestMessage!.Headers!["X-Dedupe-Token"].Single()).Distinct());
    }

    [Fact]
    public async Task Send_IntegrationDeclaresWritesSafe_WriteRepeated()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.SafeToRepeat = true);
        Respond(h, 503);

        await SendAsync(h, Write("POST"));

        Assert.Equal(3, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task Send_PathDeclaredSafe_WriteRepeated()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.SafeToRepeatPaths.Add("/WRITE"));
        Respond(h, 503);

        await SendAsync(h, Write("POST"));

        Assert.Equal(3, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task Send_RequestDeclaredSafe_WriteRepeated()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503);

        await SendAsync(h, Write("POST").SafeToRepeat());

        Assert.Equal(3, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task Send_ReadDeclaredUnsafe_TriedOnce()
    {
        await using var h = IntegrationHarness.Create(o => o.Writes.SafeToRepeat = true);
        Respond(h, 503);

        await SendAsync(h, Write("GET").SafeToRepeat(false));

        Assert.Equal(1, h.UpstreamAttempts(Path));
    }

    [Theory]
    [InlineData("/v1/chat/completions", 3)]
    [InlineData("/v1/embeddings", 3)]
    [InlineData("/v1/files", 1)]
    public async Task Send_OpenAIProfile_CompletionEndpointsRepeatedOtherWritesNot(string path, int attempts)
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => o.HealthProbe = false));
        h.Server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithStatusCode(503));

        await SendAsync(h, Write("POST", path));

        Assert.Equal(attempts, h.UpstreamAttempts(path));
    }

    [Fact]
    public async Task Send_WriteToRefusedPort_RetriedSinceNothingWasSent()
    {
        using var refused = RefusedPort.Hold();
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = refused.Url);

        var error = await SendAsync(h, Write("POST"));

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)], h.Clock.Waits);
    }

    [Theory]
    [InlineData("GET", 2, false)]
    [InlineData("POST", 1, true)]
    public async Task Send_AttemptTimesOut_WriteNotRepeatedAndSaysItMayHaveBeenActedOn(string method, int attempts, bool mayHaveActed)
    {
        using var peer = RawHttpPeer.Hang();
        await using var h = IntegrationHarness.Create(o => o.BaseAddress = new Uri(peer.Url));
        var call = h.Client.SendAsync(Write(method), Ct);

        var error = await HangingAttempts.RunAsync(call, h.Clock, () => peer.Requests, IntegrationHarness.AttemptTimeout);

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Timeout, failure.Kind);
        Assert.Equal(attempts, peer.Requests);
        Assert.Equal(mayHaveActed, failure.Classification.Reason?.Contains("may have been acted on", StringComparison.Ordinal) ?? false);
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(mayHaveActed, alert.Message.Contains("may have been acted on", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 3)]
    public async Task ExecuteLiveAsync_WriteFailsWith503_RepeatedOnlyWhenDeclaredSafe(bool safeToRepeat, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503);
        using var plain = new HttpClient { BaseAddress = new Uri(h.Server.Url!) }; // an SDK's own client, not the integration's
        var crm = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        async Task<bool> CreateContact(CancellationToken ct)
        {
            using var response = await plain.PostAsJsonAsync(Path, new { email = "ada@example.com" }, ct);
            response.EnsureSuccessStatusCode();
            return true;
        }

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(safeToRepeat
            ? crm.ExecuteLiveAsync(CreateContact, safeToRepeat: true, Ct)
            : crm.ExecuteLiveAsync(CreateContact, Ct)));

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task ExecuteLiveAsync_WriteRateLimited_RepeatedSinceNotProcessed()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 429);
        using var plain = new HttpClient { BaseAddress = new Uri(h.Server.Url!) };
        var crm = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(crm.ExecuteLiveAsync(async ct =>
        {
            using var response = await plain.PostAsJsonAsync(Path, new { email = "ada@example.com" }, ct);
            return response.EnsureSuccessStatusCode().StatusCode;
        }, Ct)));

        Assert.Equal(FailureKind.RateLimit, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(4, h.UpstreamAttempts(Path));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 3)]
    public async Task ExecuteLiveAsync_WriteThroughTheIntegrationsOwnClient_RepeatedOnlyWhenTheCallWasDeclaredSafe(bool safeToRepeat, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 503);
        var crm = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        async Task<bool> CreateContact(CancellationToken ct)
        {
            using var response = await h.Client.PostAsJsonAsync(Path, new { email = "ada@example.com" }, ct); // the inner layer retries
            return response.IsSuccessStatusCode;
        }

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(crm.ExecuteLiveAsync(CreateContact, safeToRepeat, Ct)));

        Assert.Equal(FailureKind.Unavailable, IntegrationFailureException.Find(error!, IntegrationHarness.Name)?.Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(Path));
    }

    [Theory]
    [InlineData("Idempotency Key")]
    [InlineData("Content-Type")] // a content header: a request cannot carry it, so the key would never go on
    public void Options_InvalidIdempotencyHeader_FailsAtStartNamingTheKey(string header)
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
        {
            var services = new ServiceCollection();
            services.AddResilientIntegration("crm", o => o.Writes.IdempotencyKeyHeader = header);
            using var provider = services.BuildServiceProvider();
            _ = provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ResilientIntegrationOptions>>().Get("crm");
        });

        Assert.Contains("ResilientIntegrations:crm:Writes:IdempotencyKeyHeader", error.Message, StringComparison.Ordinal);
    }
}
