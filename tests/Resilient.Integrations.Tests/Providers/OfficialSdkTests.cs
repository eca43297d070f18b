using System.ClientModel;
using Microsoft.Extensions.DependencyInjection;
using System.ClientModel.Primitives;
using Anthropic;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Providers;

/// <summary>
/// The real OpenAI and Anthropic SDK packages over the integration's HttpClient with their own retries off:
/// exactly one retry layer acts, counted from what reaches the loopback fake.
/// </summary>
public sealed class OfficialSdkTests
{
    private const string OpenAIPath = "/v1/chat/completions";
    private const string AnthropicPath = "/v1/messages";

    private const string OpenAICompletion = """{"id":"chatcmpl-1","object":"chat.completion","created":1764050000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Weekly summary"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    private const string AnthropicMessage = """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Weekly summary"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}""";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ChatClient OpenAIChat(IntegrationHarness h) => new("gpt-4o-mini", new ApiKeyCredential("sk-sdk-own-key"), new OpenAIClientOptions
    {
        Endpoint = new Uri(h.Server.Url + "/v1"),
        Transport = new HttpClientPipelineTransport(h.Client),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0), // ours is the only retry layer
    });

    private static IChatClient AnthropicChat(IntegrationHarness h) => new AnthropicClient
    {
        HttpClient = h.Client,
        BaseUrl = h.Server.Url!,
        ApiKey = "sk-ant-sdk-own-key",
        MaxRetries = 0, // ours is the only retry layer
    }.AsIChatClient("claude-sonnet-4-5");

    private static void Then(IntegrationHarness h, string path, int status, string body, params (string Name, string Value)[] headers)
    {
        var first = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body);
        foreach (var (name, value) in headers)
        {
            first = first.WithHeader(name, value);
        }

        h.Server.Given(Request.Create().WithPath(path).UsingPost()).InScenario("sdk").WillSetStateTo("recovered").RespondWith(first);
        h.Server.Given(Request.Create().WithPath(path).UsingPost()).InScenario("sdk").WhenStateIs("recovered").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(path == OpenAIPath ? OpenAICompletion : AnthropicMessage));
    }

    private const string ProfileKey = "sk-profile-key-never-sent-with-an-sdk";

    private static IntegrationFailureException FailureIn(Exception? error) =>
        (error is null ? null : IntegrationFailureException.Find(error, IntegrationHarness.Name))
        ?? throw new Xunit.Sdk.XunitException($"No IntegrationFailureException in {error}");

    [Fact]
    public async Task OpenAISdk_RateLimitWithRetryAfterMsThenSuccess_OneRetryByUsOnly()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => { o.HealthProbe = false; o.ApiKey = ProfileKey; }));
        Then(h, OpenAIPath, 429, """{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}""", ("retry-after-ms", "1500"));

        var completion = await h.Clock.RunAsync(OpenAIChat(h).CompleteChatAsync([new UserChatMessage("Summarise the week")], cancellationToken: Ct));

        Assert.Equal("Weekly summary", completion.Value.Content[0].Text);
        Assert.Equal(2, h.UpstreamAttempts(OpenAIPath));
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMilliseconds(1500))], h.Clock.Waits);
        Assert.Equal("Bearer sk-sdk-own-key", h.Server.LogEntries.First().RequestMessage!.Headers!["Authorization"].Single());
        Assert.DoesNotContain(h.Server.LogEntries, e => e.RequestMessage!.Headers!.Values.Any(v => v.Any(x => x.Contains(ProfileKey, StringComparison.Ordinal))));
    }

    [Fact]
    public async Task OpenAISdk_Unauthorized_OneAttemptAndOneCriticalAlert()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => o.HealthProbe = false));
        Then(h, OpenAIPath, 401, """{"error":{"message":"Incorrect API key provided: sk-sdk-****-key.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""");

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(OpenAIChat(h).CompleteChatAsync([new UserChatMessage("Summarise the week")], cancellationToken: Ct)));

        Assert.IsType<ClientResultException>(error);
        Assert.Equal(FailureKind.Auth, FailureIn(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts(OpenAIPath));
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
        Assert.Equal(FailureKind.Auth, alert.Kind);
    }

    [Fact]
    public async Task OpenAISdk_InsufficientQuota_OneAttemptNoBackoff()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForOpenAI(o => o.HealthProbe = false));
        Then(h, OpenAIPath, 429, """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""", ("retry-after-ms", "1500"));

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(OpenAIChat(h).CompleteChatAsync([new UserChatMessage("Summarise the week")], cancellationToken: Ct)));

        Assert.Equal(FailureKind.QuotaExhausted, FailureIn(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts(OpenAIPath));
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task AnthropicSdk_RateLimitWithRetryAfterThenSuccess_OneRetryByUsOnly()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForAnthropic(o => { o.HealthProbe = false; o.ApiKey = ProfileKey; }));
        Then(h, AnthropicPath, 429, """{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_1"}""", ("retry-after", "2"));

        var response = await h.Clock.RunAsync(AnthropicChat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary", response.Text);
        Assert.Equal(2, h.UpstreamAttempts(AnthropicPath));
        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(2))], h.Clock.Waits);
        // The SDK's own key travels (this SDK version sends it in Authorization); the profile adds none.
        var headers = h.Server.LogEntries.First().RequestMessage!.Headers!;
        Assert.Single(headers, kv => kv.Value.Any(v => v.Contains("sk-ant-sdk-own-key", StringComparison.Ordinal)));
        Assert.DoesNotContain(h.Server.LogEntries, e => e.RequestMessage!.Headers!.Values.Any(v => v.Any(x => x.Contains(ProfileKey, StringComparison.Ordinal))));
    }

    [Fact]
    public async Task AnthropicSdk_Unauthorized_OneAttemptAndOneCriticalAlert()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForAnthropic(o => o.HealthProbe = false));
        Then(h, AnthropicPath, 401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_2"}""");

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(AnthropicChat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        Assert.IsType<Anthropic.Exceptions.AnthropicIOException>(error);
        Assert.Equal(FailureKind.Auth, FailureIn(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts(AnthropicPath));
        var alert = Assert.Single(await h.SettledAlertsAsync());
        Assert.Equal(AlertSeverity.Critical, alert.Severity);
    }

    [Fact]
    public async Task AnthropicSdk_SpendLimitReached_OneAttemptNoBackoff()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForAnthropic(o => o.HealthProbe = false));
        Then(h, AnthropicPath, 429, """{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified workspace API usage limits.","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_3"}""", ("retry-after", "2"));

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(AnthropicChat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        Assert.Equal(FailureKind.QuotaExhausted, FailureIn(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts(AnthropicPath));
        Assert.Empty(h.Clock.Waits);
    }

    [Fact]
    public async Task AnthropicSdk_Overloaded529_RetriedAsUnavailableNotAsRateLimit()
    {
        await using var h = IntegrationHarness.Create(build: b => b.ForAnthropic(o => o.HealthProbe = false));
        Then(h, AnthropicPath, 529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_4"}""");
        using var retries = h.Metric("resilient_integrations.retries");

        var response = await h.Clock.RunAsync(AnthropicChat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary", response.Text);
        Assert.Equal(2, h.UpstreamAttempts(AnthropicPath));
        Assert.Equal("Unavailable", Assert.Single(retries.GetMeasurementSnapshot()).Tags["kind"]);
    }

    [Theory]
    [InlineData("openai", 401, FailureKind.Auth, 1)]
    [InlineData("anthropic", 401, FailureKind.Auth, 1)]
    [InlineData("openai", 503, FailureKind.Unavailable, 3)]    // retried by the client's pipeline alone: 3, not 3 x 3
    [InlineData("anthropic", 503, FailureKind.Unavailable, 3)]
    public async Task Sdk_OnTheIntegrationClientInsideExecuteAsync_ReportedOnceAndLastGoodServed(string provider, int status, FailureKind kind, int attempts)
    {
        await using var h = IntegrationHarness.Create(build: b => _ = provider == "openai" ? b.ForOpenAI(o => o.HealthProbe = false) : b.ForAnthropic(o => o.HealthProbe = false));
        string path = provider == "openai" ? OpenAIPath : AnthropicPath;
        var ai = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);
        Task<string> Summarise(CancellationToken ct) => provider == "openai"
            ? OpenAIChat(h).CompleteChatAsync([new UserChatMessage("Summarise the week")], cancellationToken: ct).ContinueWith(t => t.Result.Value.Content[0].Text, ct, TaskContinuationOptions.None, TaskScheduler.Default)
            : AnthropicChat(h).GetResponseAsync("Summarise the week", cancellationToken: ct).ContinueWith(t => t.Result.Text, ct, TaskContinuationOptions.None, TaskScheduler.Default);
        h.Server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(provider == "openai" ? OpenAICompletion : AnthropicMessage));
        await h.Clock.RunAsync(ai.ExecuteAsync("weekly-summary:acme", Summarise, Ct));
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath(path).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody("""{"type":"error","error":{"type":"api_error","message":"refused"}}"""));
        using var failures = h.Metric("resilient_integrations.failures");

        var result = await h.Clock.RunAsync(ai.ExecuteAsync("weekly-summary:acme", Summarise, Ct));

        Assert.False(result.IsLive);
        Assert.Equal("Weekly summary", result.Value);
        Assert.Equal(kind, result.Failure?.Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(path));
        Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Single(await h.SettledAlertsAsync());
    }
}
