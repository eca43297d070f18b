using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using Resilient.Integrations.AI;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.AI;

/// <summary>
/// <c>ChatClientBuilder.UseResilience</c> over the real OpenAI IChatClient on a plain HttpClient (SDK retries off):
/// the middleware is the one retry layer, and the loopback fake counts what reaches it.
/// </summary>
public sealed class ResilientChatClientTests
{
    private const string Path = "/v1/chat/completions";
    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","created":1764050000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Weekly summary"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    private const string FirstChunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764050000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Weekly\"},\"finish_reason\":null}]}\n\n";
    private const string LastChunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764050000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" summary\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

    private const string Overloaded = """{"error":{"message":"overloaded","type":"server_error"}}""";

    private static readonly HttpClient PlainHttp = new();

    public static TheoryData<int, string, FailureKind, int> FailureKinds => new()
    {
        // status, body, kind, upstream attempts (defaults: Timeout 1 retry, Unavailable 2, the rest none)
        { 504, """{"error":{"message":"Gateway timeout","type":"server_error","code":null}}""", FailureKind.Timeout, 2 },
        { 401, """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""", FailureKind.Auth, 1 },
        { 429, """{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}""", FailureKind.QuotaExhausted, 1 },
        { 503, """{"error":{"message":"The engine is currently overloaded.","type":"server_error","code":null}}""", FailureKind.Unavailable, 3 },
        { 200, """{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis""", FailureKind.BadResponse, 1 },
        { 400, """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}""", FailureKind.Rejected, 1 },
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IChatClient Chat(IntegrationHarness h, Action<ResilientChatClientOptions>? configure = null, string? endpoint = null)
    {
        var sdk = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-chat-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri((endpoint ?? h.Server.Url) + "/v1"),
            Transport = new HttpClientPipelineTransport(PlainHttp),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        return new ChatClientBuilder(sdk.AsIChatClient()).UseResilience(IntegrationHarness.Name, configure).Build(h.Provider);
    }

    private static void Respond(IntegrationHarness h, int status, string body, string contentType = "application/json") =>
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));

    [Theory]
    [MemberData(nameof(FailureKinds))]
    public async Task GetResponse_FailureOfEachKind_ClassifiedWithItsPolicy(int status, string body, FailureKind kind, int attempts)
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, status, body);

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(Chat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(Path));
        var alerts = await h.SettledAlertsAsync();
        var expected = h.Provider.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<global::Resilient.Integrations.Policies.ResilientIntegrationOptions>>()
            .Get(IntegrationHarness.Name).PolicyFor(kind).Alert;
        Assert.Equal(expected is null ? [] : [expected.Value], alerts.Select(a => a.Severity));
    }

    [Fact]
    public async Task GetResponse_RateLimitedWithRetryAfterMs_WaitsTheHintAndAnswers()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).InScenario("rl").WillSetStateTo("ok").RespondWith(
            Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "1500").WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"""));
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).InScenario("rl").WhenStateIs("ok").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Completion));

        var response = await h.Clock.RunAsync(Chat(h).GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary", response.Text);
        Assert.Null(response.GetDegradation());
        Assert.Equal(2, h.UpstreamAttempts(Path));
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMilliseconds(1500))], h.Clock.Waits);
    }

    [Fact]
    public async Task GetResponse_ServeLastGoodAnswerAndProviderDown_ServesTheKeptAnswerWithANotice()
    {
        await using var h = IntegrationHarness.Create();
        var chat = Chat(h, o => o.ServeLastGoodAnswer = true);
        Respond(h, 200, Completion);
        await h.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));

        h.Server.Reset();
        Respond(h, 503, Overloaded);
        h.Clock.Advance(TimeSpan.FromHours(6));
        var stale = await h.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        var other = await Record.ExceptionAsync(() => h.Clock.RunAsync(chat.GetResponseAsync("Summarise another week", cancellationToken: Ct)));

        Assert.Equal("Weekly summary", stale.Text);
        var degradation = Assert.IsType<Resilient.Integrations.Fallback.Degradation>(stale.GetDegradation());
        Assert.Equal(FailureKind.Unavailable, degradation.Kind);
        Assert.Equal("Report generated with data as of 6 hours ago (live data temporarily unavailable)", degradation.NoticeFor("Report generated with data"));
        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(other).Kind); // another request never gets this answer
    }

    /// <summary>Answers the request once with <paramref name="completion"/>, then asks it again of a provider that is down.</summary>
    private static async Task<Exception?> AnsweredThenDownAsync(IntegrationHarness h, IChatClient chat, string completion)
    {
        Respond(h, 200, completion);
        await h.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        h.Server.Reset();
        Respond(h, 503, Overloaded);
        return await Record.ExceptionAsync(() => h.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct)));
    }

    [Fact]
    public async Task GetResponse_AnswerLargerThanMaxEntryBytes_NotKept()
    {
        // 20,000 characters are about 40 KB in memory: over the 16 KB an entry may take.
        await using var h = IntegrationHarness.Create(o => o.Fallback.MaxEntryBytes = 16 * 1024);

        var error = await AnsweredThenDownAsync(h, Chat(h, o => o.ServeLastGoodAnswer = true), Completion.Replace("Weekly summary", new string('x', 20_000), StringComparison.Ordinal));

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Fact]
    public async Task GetResponse_FallbackNotOptedIn_ThrowsTheTypedFailure()
    {
        await using var h = IntegrationHarness.Create();

        var error = await AnsweredThenDownAsync(h, Chat(h), Completion);

        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
    }

    [Fact]
    public async Task GetStreamingResponse_FailsMidStream_NotRetriedAndReported()
    {
        await using var h = IntegrationHarness.Create();
        Respond(h, 200, FirstChunk + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.compl\n\n", "text/event-stream");
        var received = new List<string>();

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(ReadAllAsync(Chat(h), received)));

        Assert.Equal(["Weekly"], received);
        Assert.Equal(FailureKind.BadResponse, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(1, h.UpstreamAttempts(Path));
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Fact]
    public async Task GetStreamingResponse_SilentAfterTheFirstUpdate_AbandonedAsTimeoutAfterTheIdleTimeout()
    {
        using var peer = RawHttpPeer.OpenEventStream(FirstChunk);
        await using var h = IntegrationHarness.Create();
        var received = new List<string>();
        var reading = ReadAllAsync(Chat(h, o => o.StreamIdleTimeout = TimeSpan.FromSeconds(40), peer.Url), received);

        // Armed 40 s from now, so the two advances below are what fires it.
        await Eventually.WaitUntilAsync(() => received.Count == 1 && h.Clock.HasWatchdogArmedFor(TimeSpan.FromSeconds(40)));

        h.Clock.Advance(TimeSpan.FromSeconds(39));
        await Task.Delay(50, Ct); // a chance for a wrong early end to show: nothing below waits on it
        Assert.False(reading.IsCompleted);
        h.Clock.Advance(TimeSpan.FromSeconds(1));
        var error = await Record.ExceptionAsync(() => reading.WaitAsync(Eventually.Deadline, Ct)); // real time bounds a hang only

        Assert.Equal(["Weekly"], received);
        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Timeout, failure.Kind);
        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.Equal(1, peer.Connections); // the caller holds part of the answer: never replayed
        Assert.Equal(AlertSeverity.Warning, Assert.Single(await h.SettledAlertsAsync()).Severity);
    }

    [Theory]
    [InlineData(0d)]
    [InlineData(-1000d)]
    [InlineData(50d * 24 * 60 * 60 * 1000)] // 50 days: longer than a timer can wait
    public void UseResilience_StreamIdleTimeoutOutOfRange_FailsNamingTheOption(double milliseconds)
    {
        var builder = new ChatClientBuilder(new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-chat-test")).AsIChatClient());

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => builder.UseResilience(IntegrationHarness.Name, o => o.StreamIdleTimeout = TimeSpan.FromMilliseconds(milliseconds)));

        Assert.Contains("StreamIdleTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStreamingResponse_FailsBeforeTheFirstUpdate_RetriedAndStreamedOnce()
    {
        await using var h = IntegrationHarness.Create();
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).InScenario("s").WillSetStateTo("ok").RespondWith(
            Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody("""{"error":{"message":"overloaded","type":"server_error"}}"""));
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).InScenario("s").WhenStateIs("ok").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(FirstChunk + LastChunk));
        var received = new List<string>();

        await h.Clock.RunAsync(ReadAllAsync(Chat(h), received));

        Assert.Equal("Weekly summary", string.Concat(received));
        Assert.Equal(2, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task GetStreamingResponse_ServeLastGoodAnswerAndProviderDown_StreamsTheKeptAnswerMarkedStale()
    {
        await using var h = IntegrationHarness.Create();
        var chat = Chat(h, o => o.ServeLastGoodAnswer = true);
        Respond(h, 200, FirstChunk + LastChunk, "text/event-stream");
        await h.Clock.RunAsync(ReadAllAsync(chat, []));
        h.Server.Reset();
        Respond(h, 401, """{"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","code":"invalid_api_key"}}""");

        var updates = new List<ChatResponseUpdate>();
        await h.Clock.RunAsync(Task.Run(async () =>
        {
            await foreach (var update in chat.GetStreamingResponseAsync("Summarise the week", cancellationToken: Ct))
            {
                updates.Add(update);
            }
        }, Ct));

        Assert.Equal("Weekly summary", updates.ToChatResponse().Text);
        Assert.All(updates, u => Assert.Equal(FailureKind.Auth, u.GetDegradation()?.Kind));
    }

    [Theory]
    [InlineData(429, """{"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"}}""", FailureKind.RateLimit, 2)]
    [InlineData(529, """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", FailureKind.Unavailable, 2)]
    [InlineData(401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""", FailureKind.Auth, 1)]
    public async Task GetResponse_AnthropicChatClientOnAPlainHttpClient_ClassifiedByTheAnswerItsExceptionCarries(int status, string body, FailureKind kind, int attempts)
    {
        // The Anthropic SDK's exception keeps the status and body, not an inner HttpRequestException: one rule says so.
        await using var h = IntegrationHarness.Create(build: b => b.AddFailureRule(
            FailureRule.ForExceptionResponse<Anthropic.Exceptions.AnthropicApiException>(e => e.StatusCode, e => e.ResponseBody)));
        h.Server.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("a").WillSetStateTo("ok").RespondWith(
            Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithHeader("retry-after", "2").WithBody(body));
        h.Server.Given(Request.Create().WithPath("/v1/messages").UsingPost()).InScenario("a").WhenStateIs("ok").RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Weekly summary"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}"""));
        var sdk = new Anthropic.AnthropicClient { HttpClient = PlainHttp, BaseUrl = h.Server.Url!, ApiKey = "sk-ant-test", MaxRetries = 0 };
        var chat = new ChatClientBuilder(sdk.AsIChatClient("claude-sonnet-4-5")).UseResilience(IntegrationHarness.Name).Build(h.Provider);
        using var retries = h.Metric("resilient_integrations.retries");

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        Assert.Equal(attempts, h.UpstreamAttempts("/v1/messages"));
        if (attempts == 1)
        {
            Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        }
        else
        {
            Assert.Null(error);
            Assert.Equal(kind.ToString(), Assert.Single(retries.GetMeasurementSnapshot()).Tags["kind"]); // retried as the kind it is
        }
    }

    private static async Task ReadAllAsync(IChatClient chat, List<string> received)
    {
        await foreach (var update in chat.GetStreamingResponseAsync("Summarise the week", cancellationToken: Ct))
        {
            received.Add(update.Text);
        }
    }
}
