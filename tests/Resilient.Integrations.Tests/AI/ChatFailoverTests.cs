using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;
using Resilient.Integrations.AI;
using Resilient.Integrations.AI.Failover;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.AI;

/// <summary>
/// <c>UseFailover</c> over the real OpenAI IChatClient (the primary, integration "crm", on one loopback server) with
/// the real Anthropic IChatClient as the secondary (integration "claude", Anthropic's dialect, on another loopback
/// server). Both SDKs on a plain HttpClient with their retries off; attempts are counted from each server's log.
/// </summary>
public sealed class ChatFailoverTests
{
    private const string Primary = IntegrationHarness.Name;
    private const string Secondary = "claude";
    private const string Backup = "claude-eu";
    private const string OpenAIPath = "/v1/chat/completions";
    private const string ClaudePath = "/v1/messages";

    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","created":1764050000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Weekly summary"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    private const string FirstChunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764050000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Weekly\"},\"finish_reason\":null}]}\n\n";
    private const string Overloaded = """{"error":{"message":"The engine is currently overloaded.","type":"server_error","code":null}}""";
    private const string ContextLength = """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";
    private const string ContentFilter = """{"error":{"message":"The response was filtered due to the prompt triggering content management policy.","type":null,"param":"prompt","code":"content_filter","status":400}}""";

    private const string ClaudeMessage = """{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Weekly summary from Claude"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":4}}""";
    private const string ClaudeOverloaded = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";
    private const string ClaudeStream =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n" +
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Weekly summary from Claude\"}}\n\n" +
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":4}}\n\n" +
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

    private static readonly HttpClient PlainHttp = new();

    public static TheoryData<int, string, FailureKind, int, string> DefaultKinds => new()
    {
        // status, body, kind, attempts at the primary (its own policy ran first), the reason in the notice
        { 503, Overloaded, FailureKind.Unavailable, 3, "crm unavailable" },
        { 504, """{"error":{"message":"Gateway timeout","type":"server_error","code":null}}""", FailureKind.Timeout, 2, "crm timed out" },
        { 429, """{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","code":"insufficient_quota"}}""", FailureKind.QuotaExhausted, 1, "crm out of quota" },
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The primary on the harness's server and the secondary on a server of its own, with the secondary's integration registered.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        private Rig(IntegrationHarness h, WireMockServer claude, WireMockServer backup)
        {
            H = h;
            Claude = claude;
            ClaudeEu = backup;
        }

        public IntegrationHarness H { get; }

        public WireMockServer Claude { get; }

        /// <summary>A second secondary in Anthropic's dialect, added after <see cref="Claude"/> when a test asks for it.</summary>
        public WireMockServer ClaudeEu { get; }

        public int PrimaryAttempts => H.UpstreamAttempts(OpenAIPath);

        public int SecondaryAttempts => Claude.LogEntries.Count(e => e.RequestMessage?.Path == ClaudePath);

        public static Rig Create(Action<global::Resilient.Integrations.Policies.ResilientIntegrationOptions>? primary = null)
        {
            var claude = LoopbackServer.Start();
            var backup = LoopbackServer.Start();
            var h = IntegrationHarness.Create(primary, services: s =>
            {
                AddClaude(s, Secondary);
                AddClaude(s, Backup);
            });
            return new Rig(h, claude, backup);
        }

        private static void AddClaude(IServiceCollection services, string name) =>
            services.AddResilientIntegration(name, o =>
                {
                    o.AttemptTimeout = IntegrationHarness.AttemptTimeout;
                    o.TotalTimeout = IntegrationHarness.TotalTimeout;
                    foreach (var kind in Enum.GetValues<FailureKind>())
                    {
                        o.PolicyFor(kind).UseJitter = false;
                    }
                })
                .ForAnthropic(o => o.HealthProbe = false)
                .AddFailureRule(FailureRule.ForExceptionResponse<Anthropic.Exceptions.AnthropicApiException>(e => e.StatusCode, e => e.ResponseBody));

        public static IChatClient ClaudeClient(WireMockServer server) =>
            new Anthropic.AnthropicClient { HttpClient = PlainHttp, BaseUrl = server.Url!, ApiKey = "sk-ant-test", MaxRetries = 0 }.AsIChatClient("claude-sonnet-4-5");

        public IChatClient Chat(Action<ChatFailoverOptions>? failover = null, Action<ResilientChatClientOptions>? primary = null, bool withBackup = false)
        {
            var openai = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-chat-test"), new OpenAIClientOptions
            {
                Endpoint = new Uri(H.Server.Url + "/v1"),
                Transport = new HttpClientPipelineTransport(PlainHttp),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            });
            return new ChatClientBuilder(openai.AsIChatClient())
                .UseFailover(o =>
                {
                    o.AddSecondary(Secondary, ClaudeClient(Claude));
                    if (withBackup)
                    {
                        o.AddSecondary(Backup, ClaudeClient(ClaudeEu));
                    }

                    failover?.Invoke(o);
                })
                .UseResilience(Primary, primary)
                .Build(H.Provider);
        }

        public void PrimaryAnswers(int status, string body, string contentType = "application/json") =>
            H.Server.Given(Request.Create().WithPath(OpenAIPath).UsingPost()).RespondWith(
                Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));

        public void SecondaryAnswers(int status, string body, string contentType = "application/json") =>
            Claude.Given(Request.Create().WithPath(ClaudePath).UsingPost()).RespondWith(
                Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));

        public async ValueTask DisposeAsync()
        {
            await H.DisposeAsync();
            foreach (var server in new[] { Claude, ClaudeEu })
            {
                server.Stop();
                server.Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(DefaultKinds))]
    public async Task GetResponse_PrimaryFailsWithADefaultKind_AnsweredBySecondaryWithTheReason(int status, string body, FailureKind kind, int attempts, string reason)
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(status, body);
        rig.SecondaryAnswers(200, ClaudeMessage);

        var response = await rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude", response.Text);
        Assert.Equal(attempts, rig.PrimaryAttempts);
        Assert.Equal(1, rig.SecondaryAttempts);
        var failover = Assert.IsType<ChatFailover>(response.GetFailover());
        Assert.Equal(ChatFailoverStep.Secondary, failover.Step);
        Assert.Equal(Secondary, failover.AnsweredBy);
        Assert.Equal(kind, Assert.Single(failover.Passed).Failure.Kind);
        Assert.Equal($"answered by claude: {reason}", failover.Notice);
        Assert.Null(response.GetDegradation()); // live, not a copy
    }

    [Fact]
    public async Task GetResponse_PrimaryRateLimitedPastItsBudget_AnsweredBySecondary()
    {
        // A hint longer than the rate-limit policy's 60 s cap: waiting is not worth it, so the primary gives up at once.
        await using var rig = Rig.Create();
        rig.H.Server.Given(Request.Create().WithPath(OpenAIPath).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(429).WithHeader("retry-after", "600").WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"""));
        rig.SecondaryAnswers(200, ClaudeMessage);

        var response = await rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude", response.Text);
        Assert.Equal(1, rig.PrimaryAttempts);
        Assert.Equal("answered by claude: crm rate limited", response.GetFailover()?.Notice);
    }

    [Theory]
    [InlineData(ContextLength)]
    [InlineData(ContentFilter)]
    [InlineData("""{"error":{"message":"Invalid value for 'temperature'.","type":"invalid_request_error","param":"temperature","code":null}}""")]
    public async Task GetResponse_PrimaryRejectsTheRequest_NotFailedOver(string body)
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(400, body);
        rig.SecondaryAnswers(200, ClaudeMessage);

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Rejected, failure.Kind);
        Assert.Null(failure.GetFailover()); // no failover ran
        Assert.Equal(1, rig.PrimaryAttempts);
        Assert.Equal(0, rig.SecondaryAttempts);
    }

    [Theory]
    [InlineData(ContextLength, "crm context length exceeded")]
    [InlineData(ContentFilter, "crm content filtered")]
    public async Task GetResponse_RejectionWithARouteToANamedClient_AnsweredByThatClient(string body, string reason)
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(400, body);
        rig.SecondaryAnswers(200, ClaudeMessage);
        var chat = rig.Chat(o =>
        {
            o.ContextLengthExceededTo = Secondary;
            o.ContentFilteredTo = Secondary;
        });

        var response = await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude", response.Text);
        Assert.Equal(1, rig.SecondaryAttempts);
        Assert.Equal($"answered by claude: {reason}", response.GetFailover()?.Notice);
    }

    [Fact]
    public async Task GetResponse_SecondaryIsRed_SkippedAndThePrimarysFailureThrown()
    {
        await using var rig = Rig.Create();
        var health = rig.H.Provider.GetRequiredService<IIntegrationHealthMonitor>();
        for (int i = 0; i < 5 && health.Get(Secondary).State != HealthState.Red; i++)
        {
            health.Report(Secondary, new HealthProbeResult(new FailureClassification(FailureKind.Unavailable), TimeSpan.Zero));
        }

        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeMessage);

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        Assert.Equal(HealthState.Red, health.Get(Secondary).State);
        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(Primary, failure.Integration);
        Assert.Equal(0, rig.SecondaryAttempts);
        var failover = Assert.IsType<ChatFailover>(failure.GetFailover());
        Assert.Equal(ChatFailoverStep.Failure, failover.Step);
        Assert.True(failover.Passed[1].SkippedAsRed);
        Assert.Equal("no answer: crm unavailable, claude red", failover.Notice);
    }

    [Fact]
    public async Task GetResponse_PrimaryCircuitOpen_StraightToSecondaryWithoutReachingThePrimary()
    {
        await using var rig = Rig.Create(o =>
        {
            o.CircuitBreaker.MinimumThroughput = 2;
            o.PolicyFor(FailureKind.Unavailable).MaxRetries = 0;
        });
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeMessage);
        var chat = rig.Chat();
        await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct)); // opens the circuit
        int reached = rig.PrimaryAttempts;

        var responses = new List<ChatResponse>();
        for (int i = 0; i < 3; i++)
        {
            responses.Add(await chat.GetResponseAsync("Summarise the week", cancellationToken: Ct)); // no time passes: the circuit stays open
        }

        Assert.Equal(2, reached);
        Assert.Equal(reached, rig.PrimaryAttempts);
        Assert.Equal(5, rig.SecondaryAttempts);
        Assert.All(responses, r => Assert.Equal("answered by claude: crm circuit open", r.GetFailover()?.Notice));
    }

    [Fact]
    public async Task GetResponse_PrimaryKeepsAnswersAndSecondaryHealthy_SecondaryAnswersLiveNotTheCopy()
    {
        await using var rig = Rig.Create();
        var chat = rig.Chat(primary: o => o.ServeLastGoodAnswer = true);
        rig.PrimaryAnswers(200, Completion);
        await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        rig.H.Server.Reset();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeMessage);

        var response = await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude", response.Text);
        Assert.Null(response.GetDegradation());
        Assert.Equal(ChatFailoverStep.Secondary, response.GetFailover()?.Step);
    }

    [Fact]
    public async Task GetResponse_EveryStepDown_LastGoodAnswerServedAfterTheSecondaryFailed()
    {
        await using var rig = Rig.Create();
        var chat = rig.Chat(primary: o => o.ServeLastGoodAnswer = true);
        rig.PrimaryAnswers(200, Completion);
        await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        rig.H.Server.Reset();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(529, ClaudeOverloaded);
        rig.H.Clock.Advance(TimeSpan.FromHours(6));

        var response = await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary", response.Text);
        Assert.Equal(3, rig.SecondaryAttempts); // tried, with its own retries, before the copy was served
        Assert.Equal(FailureKind.Unavailable, response.GetDegradation()?.Kind);
        var failover = Assert.IsType<ChatFailover>(response.GetFailover());
        Assert.Equal(ChatFailoverStep.LastGoodAnswer, failover.Step);
        Assert.Equal(Primary, failover.AnsweredBy);
        Assert.Equal("last good answer of crm as of 6 hours ago: crm unavailable, claude unavailable", failover.Notice);
    }

    [Fact]
    public async Task GetResponse_SecondaryAnsweredEarlier_PrimaryKeepsThatAnswerForLater()
    {
        await using var rig = Rig.Create();
        var chat = rig.Chat(primary: o => o.ServeLastGoodAnswer = true);
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeMessage);
        await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));
        rig.Claude.Reset();
        rig.SecondaryAnswers(529, ClaudeOverloaded);

        var response = await rig.H.Clock.RunAsync(chat.GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude", response.Text);
        Assert.Equal(ChatFailoverStep.LastGoodAnswer, response.GetFailover()?.Step);
    }

    [Fact]
    public async Task GetResponse_EveryStepDownAndNoCopy_ThrowsThePrimarysFailureWithTheSteps()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(529, ClaudeOverloaded);
        using var outcomes = rig.H.Metric("resilient_integrations.failover.outcomes");

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(Primary, failure.Integration); // the primary's failure, not the last secondary's
        Assert.Equal(FailureKind.Unavailable, failure.Kind);
        Assert.Equal("no answer: crm unavailable, claude unavailable", failure.GetFailover()?.Notice);
        Assert.Equal("failure", Assert.Single(outcomes.GetMeasurementSnapshot()).Tags["step"]);
        var logged = Assert.Single(rig.H.Logs.GetSnapshot(), r => r.Id.Id == 81);
        Assert.Contains(logged.StructuredState!, p => p is { Key: "Notice", Value: "no answer: crm unavailable, claude unavailable" });
    }

    [Fact]
    public async Task GetResponse_AnsweredBySecondary_LoggedAndCounted()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeMessage);
        using var outcomes = rig.H.Metric("resilient_integrations.failover.outcomes");

        await rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct));

        var measurement = Assert.Single(outcomes.GetMeasurementSnapshot());
        Assert.Equal("secondary", measurement.Tags["step"]);
        Assert.Equal(Secondary, measurement.Tags["answered_by"]);
        var logged = Assert.Single(rig.H.Logs.GetSnapshot(), r => r.Id.Id == 80);
        Assert.Contains(logged.StructuredState!, p => p is { Key: "AnsweredBy", Value: Secondary });
        Assert.DoesNotContain("sk-", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponse_FirstSecondaryDownToo_AnsweredByTheNextInOrder()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(529, ClaudeOverloaded);
        rig.ClaudeEu.Given(Request.Create().WithPath(ClaudePath).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(ClaudeMessage.Replace("from Claude", "from Claude EU", StringComparison.Ordinal)));

        var response = await rig.H.Clock.RunAsync(rig.Chat(withBackup: true).GetResponseAsync("Summarise the week", cancellationToken: Ct));

        Assert.Equal("Weekly summary from Claude EU", response.Text);
        Assert.Equal(3, rig.SecondaryAttempts); // the first secondary's own retries ran before the call moved on
        Assert.Equal("answered by claude-eu: crm unavailable, claude unavailable", response.GetFailover()?.Notice);
    }

    [Fact]
    public async Task GetResponse_SecondaryFailsWithAKindThatDoesNotMoveOn_NextSecondaryNotTried()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(401, """{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}""");

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(rig.Chat(withBackup: true).GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Unavailable, failure.Kind); // the primary's failure
        Assert.Equal("no answer: crm unavailable, claude refused the credentials", failure.GetFailover()?.Notice);
        Assert.Empty(rig.ClaudeEu.LogEntries);
    }

    [Fact]
    public async Task GetResponse_AnthropicPromptTooLong_RecognisedAsContextLengthExceeded()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(400, """{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 212345 tokens > 200000 maximum"}}""");

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: Ct)));

        var passed = Assert.IsType<IntegrationFailureException>(error).GetFailover()!.Passed[1];
        Assert.True(ChatRejections.IsContextLengthExceeded(passed.Failure));
        Assert.Equal("claude context length exceeded", passed.Reason);
    }

    [Fact]
    public async Task GetStreamingResponse_PrimaryFailsBeforeTheFirstUpdate_SecondaryStreamsMarkedUpdates()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(503, Overloaded);
        rig.SecondaryAnswers(200, ClaudeStream, "text/event-stream");

        var updates = await rig.H.Clock.RunAsync(ReadAllAsync(rig.Chat()));

        Assert.Equal("Weekly summary from Claude", updates.ToChatResponse().Text);
        Assert.NotEmpty(updates);
        Assert.All(updates, u => Assert.Equal("answered by claude: crm unavailable", u.GetFailover()?.Notice));
        Assert.Equal(1, rig.SecondaryAttempts);
    }

    [Fact]
    public async Task GetStreamingResponse_PrimaryFailsAfterTheFirstUpdate_ThrownNotFailedOver()
    {
        await using var rig = Rig.Create();
        rig.PrimaryAnswers(200, FirstChunk + "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.compl\n\n", "text/event-stream");
        rig.SecondaryAnswers(200, ClaudeStream, "text/event-stream");
        var received = new List<string>();

        var error = await Record.ExceptionAsync(() => rig.H.Clock.RunAsync(Task.Run(async () =>
        {
            await foreach (var update in rig.Chat().GetStreamingResponseAsync("Summarise the week", cancellationToken: Ct))
            {
                received.Add(update.Text);
            }
        }, Ct)));

        Assert.Equal(["Weekly"], received);
        Assert.Equal(FailureKind.BadResponse, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(0, rig.SecondaryAttempts);
    }

    [Fact]
    public async Task GetResponse_CallerCancels_NeverFailedOver()
    {
        await using var rig = Rig.Create();
        rig.H.Server.Given(Request.Create().WithPath(OpenAIPath).UsingPost()).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Completion).WithDelay(TimeSpan.FromSeconds(2)));
        rig.SecondaryAnswers(200, ClaudeMessage);
        using var outcomes = rig.H.Metric("resilient_integrations.failover.outcomes");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var call = rig.Chat().GetResponseAsync("Summarise the week", cancellationToken: cts.Token);

        await cts.CancelAsync();
        var error = await Record.ExceptionAsync(() => call);

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.Equal(0, rig.SecondaryAttempts);
        Assert.Empty(outcomes.GetMeasurementSnapshot()); // a secondary given the cancelled token would not reach its server either
        Assert.DoesNotContain(rig.H.Logs.GetSnapshot(), l => l.Id.Id is 80 or 81);
    }

    public static TheoryData<string, string> InvalidSetups => new()
    {
        { "none", "ChatFailoverOptions.Secondaries is empty" },
        { "twice", "'claude' is added more than once" },
        { "unknown", "no resilient integration named 'azure-gpt-4o' is registered" },
        { "primary", "'crm' is the primary's integration" },
        { "route", "ChatFailoverOptions.ContextLengthExceededTo: 'bigger' is not one of the secondaries" },
    };

    [Theory]
    [MemberData(nameof(InvalidSetups))]
    public async Task UseFailover_InvalidOptions_FailsAtBuildNamingTheOption(string setup, string message)
    {
        await using var rig = Rig.Create();
        var secondary = Rig.ClaudeClient(rig.Claude);
        var primary = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-chat-test")).AsIChatClient();
        var builder = new ChatClientBuilder(primary).UseFailover(o =>
        {
            switch (setup)
            {
                case "twice":
                    o.AddSecondary(Secondary, secondary).AddSecondary(Secondary, secondary);
                    break;
                case "unknown":
                    o.AddSecondary("azure-gpt-4o", secondary);
                    break;
                case "primary":
                    o.AddSecondary(Primary, secondary);
                    break;
                case "route":
                    o.AddSecondary(Secondary, secondary).ContextLengthExceededTo = "bigger";
                    break;
            }
        }).UseResilience(Primary);

        var error = Assert.Throws<OptionsValidationException>(() => builder.Build(rig.H.Provider));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UseFailover_PrimaryWithoutUseResilience_FailsAtBuild()
    {
        await using var rig = Rig.Create();
        var primary = new OpenAI.Chat.ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-chat-test")).AsIChatClient();
        var builder = new ChatClientBuilder(primary).UseFailover(o => o.AddSecondary(Secondary, primary));

        var error = Assert.Throws<OptionsValidationException>(() => builder.Build(rig.H.Provider));

        Assert.Contains("UseFailover must be put over UseResilience", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<ChatResponseUpdate>> ReadAllAsync(IChatClient chat)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Summarise the week", cancellationToken: Ct))
        {
            updates.Add(update);
        }

        return updates;
    }
}
