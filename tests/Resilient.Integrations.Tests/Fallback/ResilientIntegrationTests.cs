using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Fallback;

/// <summary>The delegate (SDK) path: a System.ClientModel pipeline, as the OpenAI and Azure SDKs use, talking to WireMock.</summary>
public sealed class ResilientIntegrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void Serve(IntegrationHarness h, int status, string? body = null, params (string, string)[] headers)
    {
        h.Server.Reset();
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body ?? "{}");
        foreach (var (name, value) in headers)
        {
            response = response.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath("/v1/summary").UsingPost()).RespondWith(response);
    }

    /// <summary>A minimal SDK: SCM pipeline with its own retries off, throwing ClientResultException on errors.</summary>
    private static Func<CancellationToken, Task<string>> SdkCall(IntegrationHarness h)
    {
        var pipeline = ClientPipeline.Create(new ClientPipelineOptions
        {
            Transport = new HttpClientPipelineTransport(new HttpClient()),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        return async ct =>
        {
            using var message = pipeline.CreateMessage();
            message.Request.Method = "POST";
            message.Request.Uri = new Uri(h.Server.Url + "/v1/summary");
            message.Request.Content = BinaryContent.Create(BinaryData.FromString("""{"week":47}"""));
            message.Apply(new RequestOptions { CancellationToken = ct });
            await pipeline.SendAsync(message);
            if (message.Response!.IsError)
            {
                throw await ClientResultException.CreateAsync(message.Response);
            }

            return message.Response.Content.ToString();
        };
    }

    private static async Task<(IntegrationResult<string>? Result, Exception? Error)> RunAsync(IntegrationHarness h, Func<CancellationToken, Task<string>> call)
    {
        var integration = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);
        try
        {
            return (await h.Clock.RunAsync(integration.ExecuteAsync("weekly-summary", call, Ct)), null);
        }
        catch (Exception ex)
        {
            return (null, ex);
        }
    }

    private int Attempts(IntegrationHarness h) => h.Server.LogEntries.Count();

    [Fact]
    public async Task ExecuteAsync_Live_ReturnsValueMarkedLive()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, """{"summary":"good week"}""");

        var (result, _) = await RunAsync(h, SdkCall(h));

        Assert.True(result!.IsLive);
        Assert.Equal("""{"summary":"good week"}""", result.Value);
        Assert.Null(result.Failure);
    }

    [Fact]
    public async Task ExecuteAsync_SdkRateLimitWithHint_RetriedOnceAfterHint()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath("/v1/summary").UsingPost()).InScenario("s").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "2500").WithBody("""{"error":{"code":"rate_limit_exceeded"}}"""));
        h.Server.Given(Request.Create().WithPath("/v1/summary").UsingPost()).InScenario("s").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("done"));

        var (result, error) = await RunAsync(h, SdkCall(h));

        Assert.Null(error);
        Assert.Equal("done", result!.Value);
        Assert.Equal(2, Attempts(h));
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMilliseconds(2500))], h.Clock.Waits);
    }

    [Fact]
    public async Task ExecuteAsync_SdkInsufficientQuota_OneAttemptNoWaitCriticalAlert()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 429, """{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}""", ("retry-after", "1"));

        var (_, error) = await RunAsync(h, SdkCall(h));

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.QuotaExhausted, failure.Kind);
        Assert.IsType<ClientResultException>(failure.InnerException);
        Assert.Equal(1, Attempts(h));
        Assert.Empty(h.Clock.Waits);
        Assert.Equal(AlertSeverity.Critical, Assert.Single(await h.Alerts.WaitForAsync(1)).Severity);
    }

    [Fact]
    public async Task ExecuteAsync_SdkErrorBodyMatchesAHostBodyRule_RuleDecidesTheKind()
    {
        // Gemini's bad key is a 400 whose body says API_KEY_INVALID: without the rule it would be Rejected.
        await using var h = IntegrationHarness.Create(build: b => b.AddFailureRule(
            FailureRule.ForStatus(400, FailureKind.Auth).WhenBody(body => body.Contains("API_KEY_INVALID", StringComparison.Ordinal))));
        Serve(h, 400, """{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}""");

        var (_, error) = await RunAsync(h, SdkCall(h));

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Auth, failure.Kind);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, failure.Classification.StatusCode);
        Assert.Equal(1, Attempts(h));
    }

    [Fact]
    public async Task ExecuteAsync_SdkUnauthorized_OneAttemptCriticalAlert()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 401, """{"error":{"code":"invalid_api_key"}}""");

        var (_, error) = await RunAsync(h, SdkCall(h));

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(1, Attempts(h));
        Assert.Equal(FailureKind.Auth, Assert.Single(await h.Alerts.WaitForAsync(1)).Kind);
    }

    [Theory]
    [InlineData(503, FailureKind.Unavailable, 3)]
    [InlineData(529, FailureKind.Unavailable, 3)]
    [InlineData(504, FailureKind.Timeout, 2)]
    [InlineData(400, FailureKind.Rejected, 1)]
    public async Task ExecuteAsync_SdkErrorStatus_ClassifiedAndRetriedPerKind(int status, FailureKind kind, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, status);

        var (_, error) = await RunAsync(h, SdkCall(h));

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, Attempts(h));
    }

    public static TheoryData<Exception, FailureKind> ThrownKinds => new()
    {
        { new HttpRequestException(HttpRequestError.ConnectionError, "refused"), FailureKind.Unavailable },
        { new HttpRequestException("unauthorized", null, HttpStatusCode.Unauthorized), FailureKind.Auth },
        { new TimeoutException("slow"), FailureKind.Timeout },
        { new System.Text.Json.JsonException("drift"), FailureKind.BadResponse },
        { new InvalidOperationException("bug"), FailureKind.Unknown },
    };

    [Theory]
    [MemberData(nameof(ThrownKinds))]
    public async Task ExecuteAsync_DelegateThrows_ClassifiedTypedFailure(Exception thrown, FailureKind kind)
    {
        await using var h = IntegrationHarness.Create();
        int calls = 0;

        var (_, error) = await RunAsync(h, _ => { calls++; return Task.FromException<string>(thrown); });

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(1 + (kind switch { FailureKind.Unavailable => 2, FailureKind.Timeout => 1, _ => 0 }), calls);
    }

    [Fact]
    public async Task ExecuteAsync_FailsAfterGoodValue_ServesStaleValueWithNotice()
    {
        await using var h = IntegrationHarness.Create();
        Serve(h, 200, "summary v1");
        await RunAsync(h, SdkCall(h));
        h.Clock.Advance(TimeSpan.FromHours(2));
        Serve(h, 401, """{"error":{"code":"invalid_api_key"}}""");

        var (result, error) = await RunAsync(h, SdkCall(h));

        Assert.Null(error);
        Assert.False(result!.IsLive);
        Assert.Equal("summary v1", result.Value);
        Assert.Equal(FailureKind.Auth, result.Failure!.Value.Kind);
        Assert.Equal("Data as of 2 hours ago (live data temporarily unavailable)", result.Degradation!.Notice);
    }

    [Fact]
    public async Task ExecuteAsync_StaleBeyondMax_ThrowsTypedFailure()
    {
        await using var h = IntegrationHarness.Create(o => o.Fallback.MaxStaleness = TimeSpan.FromHours(1));
        Serve(h, 200, "summary v1");
        await RunAsync(h, SdkCall(h));
        h.Clock.Advance(TimeSpan.FromHours(2));
        Serve(h, 503);

        var (_, error) = await RunAsync(h, SdkCall(h));

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Fact]
    public async Task ExecuteAsync_CallerCancels_ThrowsCancellationNotFailure()
    {
        await using var h = IntegrationHarness.Create();
        using var failures = h.Metric("resilient_integrations.failures");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var integration = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        var call = integration.ExecuteAsync<string>("k", async ct => { await cts.CancelAsync(); ct.ThrowIfCancellationRequested(); return "x"; }, cts.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Empty(failures.GetMeasurementSnapshot());
    }

    [Theory]
    [InlineData(4 * 1024, true)]
    [InlineData(64 * 1024, false)] // over Fallback:MaxEntryBytes: not kept, whatever its type
    public async Task RememberLastGood_ApproximateBytes_CountedAgainstMaxEntryBytes(long approximateBytes, bool kept)
    {
        await using var h = IntegrationHarness.Create(o => o.Fallback.MaxEntryBytes = 16 * 1024);
        var integration = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        integration.RememberLastGood("summary", new List<string> { "week 47" }, approximateBytes);

        Assert.Equal(kept, integration.TryServeLastGood<List<string>>("summary", new FailureClassification(FailureKind.Unavailable), out _));
    }

    [Fact]
    public async Task RememberLastGood_ApproximateBytesBelowOne_Throws()
    {
        await using var h = IntegrationHarness.Create();
        var integration = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        Assert.Throws<ArgumentOutOfRangeException>(() => integration.RememberLastGood("summary", "week 47", 0));
    }
}
