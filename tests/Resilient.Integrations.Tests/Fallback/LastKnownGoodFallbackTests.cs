using System.Net;
using System.Net.Http.Headers;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Fallback;

public sealed class LastKnownGoodFallbackTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Serve(IntegrationHarness h, int status, string? body = null, string path = "/call", string method = "GET", params (string, string)[] headers)
    {
        h.Server.Reset();
        var response = Response.Create().WithStatusCode(status);
        if (body is not null)
        {
            response = response.WithHeader("Content-Type", body.StartsWith('<') ? "text/html" : "application/json").WithBody(body);
        }

        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath(path).UsingMethod(method)).RespondWith(response);
    }

    private static async Task<(HttpResponseMessage? Response, Exception? Error)> SendAsync(IntegrationHarness h, Func<HttpRequestMessage> build)
    {
        var call = h.Client.SendAsync(build(), Ct);
        try
        {
            return (await h.Clock.RunAsync(call), null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }

    [Fact]
    public async Task Send_LiveThenDownThenUp_ServesCopyWithAsOfThenLiveAgainAndRefreshes()
    {
        await using var h = IntegrationHarness.Create();
        var fetchedAt = h.Clock.GetUtcNow();
        Serve(h, 200, """{"week":47,"deals":12}""");
        var (live, _) = await h.GetAsync();
        Assert.Null(live!.GetDegradation());

        h.Clock.Advance(TimeSpan.FromHours(6));
        Serve(h, 503);
        var (stale, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.OK, stale!.StatusCode);
        Assert.Equal("""{"week":47,"deals":12}""", await stale.Content.ReadAsStringAsync(Ct));
        var degradation = stale.GetDegradation()!;
        Assert.Equal(fetchedAt, degradation.AsOf);
        Assert.Equal(TimeSpan.FromHours(6) + TimeSpan.FromSeconds(3), degradation.Age); // 6 h, plus the 1 s and 2 s retry waits
        Assert.Equal(FailureKind.Unavailable, degradation.Kind);
        Assert.Equal("Data as of 6 hours ago (live data temporarily unavailable)", degradation.Notice);
        Assert.Equal("Report generated with data as of 6 hours ago (live data temporarily unavailable)", degradation.NoticeFor("Report generated with data"));
        Assert.Equal(degradation.Age, stale.Headers.Age);
        Assert.StartsWith("Unavailable; as-of=", stale.Headers.GetValues(FallbackRequestExtensions.DegradedHeader).Single(), StringComparison.Ordinal);
        Assert.Equal(3, h.UpstreamAttempts()); // the outage was retried before the copy was served

        h.Clock.Advance(TimeSpan.FromMinutes(30));
        Serve(h, 200, """{"week":48,"deals":15}""");
        var (recovered, _) = await h.GetAsync();
        Assert.Null(recovered!.GetDegradation());
        Assert.Equal("""{"week":48,"deals":15}""", await recovered!.Content.ReadAsStringAsync(Ct));

        h.Clock.Advance(TimeSpan.FromMinutes(5));
        Serve(h, 503);
        var (again, _) = await h.GetAsync();
        Assert.Equal("""{"week":48,"deals":15}""", await again!.Content.ReadAsStringAsync(Ct));
        Assert.Equal("Data as of 5 minutes ago (live data temporarily unavailable)", again.GetDegradation()!.Notice);
    }

    [Theory]
    [InlineData(500, """{"week":47}""")]   // within the 1 s refresh interval: the first copy stays
    [InlineData(1500, """{"week":48}""")]  // past it: the newer success replaces the copy
    public async Task Send_SecondSuccess_ReplacesTheCopyOnlyAfterTheRefreshInterval(int afterMs, string served)
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"week":47}""");
        await h.GetAsync();
        h.Clock.Advance(TimeSpan.FromMilliseconds(afterMs));
        Serve(h, 200, """{"week":48}""");
        await h.GetAsync();

        Serve(h, 503);
        var (stale, _) = await h.GetAsync();

        Assert.NotNull(stale);
        Assert.NotNull(stale.GetDegradation());
        Assert.Equal(served, await stale.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_ManyRequestShapes_EachKeepsAndServesItsOwnCopy()
    {
        // Many shapes at once: none may hold back another's copy.
        const int Shapes = 300;
        await using var h = IntegrationHarness.Create(o => o.Unavailable.MaxRetries = 0);
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(r => $$"""{"path":"{{r.Path}}"}"""));
        for (int i = 0; i < Shapes; i++)
        {
            using var live = await h.Client.GetAsync($"/items/{i}", Ct);
        }

        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*"))).RespondWith(Response.Create().WithStatusCode(503));
        var wrong = new List<int>();
        for (int i = 0; i < Shapes; i++)
        {
            using var stale = await h.Client.GetAsync($"/items/{i}", Ct);
            if (stale.GetDegradation() is null || await stale.Content.ReadAsStringAsync(Ct) != $$"""{"path":"/items/{{i}}"}""")
            {
                wrong.Add(i);
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public async Task Send_CopiesPerSecondSpent_SuccessPassedOnUnkeptUntilTheNextSecond()
    {
        // Three shapes in one second against a budget of two copies: the third is answered but not kept.
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Fallback.MaxCopiesPerSecond = 2;
            o.Unavailable.MaxRetries = 0;
        });
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(r => $$"""{"path":"{{r.Path}}"}"""));
        for (int i = 0; i < 3; i++)
        {
            using var live = await h.Client.GetAsync($"/items/{i}", Ct);
            Assert.Equal($$"""{"path":"/items/{{i}}"}""", await live.Content.ReadAsStringAsync(Ct));
        }

        h.Clock.Advance(TimeSpan.FromSeconds(1));
        using (var again = await h.Client.GetAsync("/items/2", Ct))
        {
            // A new second: the third shape is kept now.
        }

        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*"))).RespondWith(Response.Create().WithStatusCode(503));
        foreach (int i in (int[])[0, 1, 2])
        {
            using var stale = await h.Client.GetAsync($"/items/{i}", Ct);
            Assert.NotNull(stale.GetDegradation());
            Assert.Equal($$"""{"path":"/items/{{i}}"}""", await stale.Content.ReadAsStringAsync(Ct));
        }

        await Assert.ThrowsAsync<IntegrationFailureException>(() => h.Client.GetAsync("/items/3", Ct));
    }

    [Fact]
    public async Task Send_CopiesPerSecondSpent_ThirdShapeHasNoCopyToServe()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Fallback.MaxCopiesPerSecond = 2;
            o.Unavailable.MaxRetries = 0;
        });
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        for (int i = 0; i < 3; i++)
        {
            using var live = await h.Client.GetAsync($"/items/{i}", Ct);
        }

        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/items/*"))).RespondWith(Response.Create().WithStatusCode(503));

        using (var kept = await h.Client.GetAsync("/items/1", Ct))
        {
            Assert.NotNull(kept.GetDegradation());
        }

        var failure = await Assert.ThrowsAsync<IntegrationFailureException>(() => h.Client.GetAsync("/items/2", Ct));
        Assert.Equal(FailureKind.Unavailable, failure.Kind);
    }

    [Fact]
    public async Task Send_TokenExpired_ServesCopyAndRaisesOneCriticalAlert()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"contacts":[]}""");
        await h.GetAsync();
        h.Clock.Advance(TimeSpan.FromMinutes(58));
        Serve(h, 401, """{"error":{"code":"invalid_api_key"}}""");

        var (first, _) = await h.GetAsync();
        var (second, _) = await h.GetAsync();

        Assert.Equal(FailureKind.Auth, first!.GetDegradation()!.Kind);
        Assert.Equal(FailureKind.Auth, second!.GetDegradation()!.Kind);
        Assert.Equal(2, h.UpstreamAttempts()); // since the switch to 401: one attempt per call, no retry
        await h.Alerts.WaitForAsync(1);
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(FailureKind.Auth, alert.Kind);
    }

    [Fact]
    public async Task Send_CopyOlderThanMaxStaleness_ThrowsTypedFailure()
    {
        await using var h = IntegrationHarness.Create(o => o.Fallback.MaxStaleness = TimeSpan.FromHours(24));
        Serve(h, 200, "[]");
        await h.GetAsync();
        h.Clock.Advance(TimeSpan.FromHours(25));
        Serve(h, 503);

        var (_, error) = await h.GetAsync();

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failure.StatusCode);
    }

    [Fact]
    public async Task Send_NoCopy_ThrowsTypedFailureNotPollyOrHttpException()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 502);

        var (_, error) = await h.GetAsync();

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Theory]
    [InlineData(504, FailureKind.Timeout)]
    [InlineData(429, FailureKind.RateLimit)]
    [InlineData(403, FailureKind.Auth)]
    public async Task Send_ServeOnKinds_ServeCopy(int status, FailureKind kind)
    {
        await using var h = IntegrationHarness.Create(o => o.RateLimit.MaxRetries = 0);
        Serve(h, 200, "[1]");
        await h.GetAsync();
        Serve(h, status);

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(kind, response!.GetDegradation()!.Kind);
    }

    [Fact]
    public async Task Send_BadResponseOnRead_ServesCopy()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"ok":true}""");
        await h.GetAsync();
        Serve(h, 200, "<html>maintenance</html>");

        var (response, _) = await h.GetAsync();

        Assert.Equal(FailureKind.BadResponse, response!.GetDegradation()!.Kind);
        Assert.Equal("""{"ok":true}""", await response!.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_Rejected_NeverServesCopy()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, "[]");
        await h.GetAsync();
        Serve(h, 400, """{"error":{"code":"bad_filter"}}""");

        var (_, error) = await h.GetAsync();

        Assert.Equal(FailureKind.Rejected, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Fact]
    public async Task Send_PostWithoutOptIn_NotKept()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"summary":"good week"}""", method: "POST");
        await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Post, "/call") { Content = new StringContent("{}") });
        Serve(h, 503, method: "POST");

        var (_, error) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Post, "/call") { Content = new StringContent("{}") });

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Fact]
    public async Task Send_PostWithCacheKey_KeptAndServed()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"summary":"good week"}""", method: "POST");
        await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Post, "/call") { Content = new StringContent("{}") }.SetFallbackCacheKey("summary:week-47"));
        Serve(h, 529, method: "POST");

        var (response, error) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Post, "/call") { Content = new StringContent("{}") }.SetFallbackCacheKey("summary:week-47"));

        Assert.Null(error);
        Assert.Equal("""{"summary":"good week"}""", await response!.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_Partitions_NeverSeeEachOthersCopies()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"tenant":"A"}""");
        await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Get, "/call").SetFallbackPartition("tenant-a"));
        Serve(h, 503);

        var (_, otherTenant) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Get, "/call").SetFallbackPartition("tenant-b"));
        var (_, noTenant) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Get, "/call"));
        var (same, _) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Get, "/call").SetFallbackPartition("tenant-a"));

        Assert.IsType<IntegrationFailureException>(otherTenant);
        Assert.IsType<IntegrationFailureException>(noTenant);
        Assert.Equal("""{"tenant":"A"}""", await same!.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_DifferentCredentials_NeverSeeEachOthersCopies()
    {
        await using var h = IntegrationHarness.Create();
        HttpRequestMessage As(string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/call");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return request;
        }

        Serve(h, 200, """{"user":"alice"}""");
        await SendAsync(h, () => As("token-alice"));
        Serve(h, 503);

        var (_, bob) = await SendAsync(h, () => As("token-bob"));
        var (alice, _) = await SendAsync(h, () => As("token-alice"));

        Assert.IsType<IntegrationFailureException>(bob);
        Assert.Equal("""{"user":"alice"}""", await alice!.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Send_CircuitOpen_ServesCopyWithoutTouchingUpstream()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.Unavailable.MaxRetries = 0;
            o.CircuitBreaker.MinimumThroughput = 3;
        });
        Serve(h, 200, "[42]");
        await h.GetAsync();
        Serve(h, 503);
        for (int i = 0; i < 3; i++)
        {
            await h.GetAsync();
        }

        int before = h.UpstreamAttempts();
        for (int i = 0; i < 5; i++)
        {
            var (response, error) = await h.GetAsync();
            Assert.Null(error);
            Assert.Equal("[42]", await response!.Content.ReadAsStringAsync(Ct));
            Assert.Equal("circuit open", response.GetDegradation()!.Failure.Reason);
        }

        Assert.Equal(before, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_StoredCopy_KeepsNoCookiesOrCredentials()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, "[]", headers: [("Set-Cookie", "session=abc123"), ("ETag", "\"v1\"")]);
        await h.GetAsync();
        Serve(h, 503);

        var (response, _) = await h.GetAsync();

        Assert.False(response!.Headers.Contains("Set-Cookie"));
        Assert.Equal("\"v1\"", response.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Send_FallbackDisabledOnRequest_ThrowsTypedFailure()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, "[]");
        await h.GetAsync();
        Serve(h, 503);

        var (_, error) = await SendAsync(h, () => new HttpRequestMessage(HttpMethod.Get, "/call").DisableFallback());

        Assert.IsType<IntegrationFailureException>(error);
    }

    [Fact]
    public async Task Send_FallbackServed_CountedInMetrics()
    {
        await using var h = IntegrationHarness.Create();
        using var served = h.Metric("resilient_integrations.fallback.served");
        Serve(h, 200, "[]");
        await h.GetAsync();
        Serve(h, 503);

        await h.GetAsync();

        Assert.Equal("Unavailable", Assert.Single(served.GetMeasurementSnapshot()).Tags["kind"]);
    }
}
