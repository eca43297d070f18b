using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Tests.Providers;

/// <summary>Each provider's documented error shapes (docs/architecture.md, "Provider facts"), sent over real HTTP to an integration with the profile applied.</summary>
public sealed class ProviderProfileTests
{
    private const string Key = "sk-profile-test-secret";

    public static TheoryData<string, int, string, string, FailureKind, int, bool> ErrorShapes => new()
    {
        // provider, status, content type, body, expected kind, upstream attempts (defaults: RateLimit 3 retries, Unavailable 2),
        // and whether only the profile gets it right (the others the classifier already reads without one)
        { "openai", 429, "application/json", """{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}""", FailureKind.QuotaExhausted, 1, false },
        { "openai", 400, "application/json", """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""", FailureKind.Rejected, 1, false },
        { "openai", 401, "application/json", """{"error":{"message":"Incorrect API key provided: sk-****.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", FailureKind.Auth, 1, false },
        { "openai", 403, "application/json", """{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}""", FailureKind.Rejected, 1, true },
        { "openai", 200, "text/event-stream", "data: {\"error\":{\"message\":\"The server had an error while processing your request.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n", FailureKind.Unavailable, 3, true },
        { "openai", 200, "application/json", """{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"content_filter"}]}""", FailureKind.Rejected, 1, true },
        { "azure", 400, "application/json", """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation"}}}""", FailureKind.Rejected, 1, false },
        { "azure", 200, "application/json", """{"id":"chatcmpl-2","object":"chat.completion","choices":[{"index":0,"finish_reason":"content_filter","message":{"role":"assistant","content":"Once upon"},"content_filter_results":{"violence":{"filtered":true,"severity":"medium"}}}]}""", FailureKind.Rejected, 1, true },
        { "anthropic", 529, "application/json", """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}""", FailureKind.Unavailable, 3, false },
        { "anthropic", 402, "application/json", """{"type":"error","error":{"type":"billing_error","message":"Your credit balance is too low."},"request_id":"req_2"}""", FailureKind.QuotaExhausted, 1, true },
        { "anthropic", 400, "application/json", """{"type":"error","error":{"type":"invalid_request_error","message":"You have reached your specified workspace API usage limits.","details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_3"}""", FailureKind.QuotaExhausted, 1, true },
        { "anthropic", 403, "application/json", """{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."},"request_id":"req_4"}""", FailureKind.Auth, 1, false },
        { "anthropic", 200, "text/event-stream", "event: ping\ndata: {\"type\": \"ping\"}\n\nevent: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n", FailureKind.Unavailable, 3, true },
        { "anthropic", 200, "text/event-stream", "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"invalid_request_error\", \"message\": \"prompt is too long\"}}\n\n", FailureKind.Rejected, 1, true },
        { "gemini", 400, "application/json", """{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}""", FailureKind.Auth, 1, true },
        { "gemini", 429, "application/json", """{"error":{"code":429,"message":"Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 50","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}""", FailureKind.QuotaExhausted, 1, false },
        { "gemini", 503, "application/json", """{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}""", FailureKind.Unavailable, 3, false },
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static void Apply(IResilientIntegrationBuilder builder, string provider)
    {
        void Options(global::Resilient.Integrations.Providers.AiProviderOptions o)
        {
            o.ApiKey = Key;
            o.HealthProbe = false;
            o.Endpoint = provider == "azure" ? new Uri("https://contoso.openai.azure.com/") : null;
        }

        _ = provider switch
        {
            "openai" => builder.ForOpenAI(Options),
            "azure" => builder.ForAzureOpenAI(Options),
            "anthropic" => builder.ForAnthropic(Options),
            "gemini" => builder.ForGemini(Options),
            _ => throw new ArgumentOutOfRangeException(nameof(provider)),
        };
    }

    [Theory]
    [MemberData(nameof(ErrorShapes))]
    public async Task Send_ProviderErrorShape_ClassifiedAsTheProviderDocumentsIt(string provider, int status, string contentType, string body, FailureKind kind, int attempts, bool profileDecides)
    {
        const string completions = "/v1/chat/completions";
        async Task<(IntegrationFailureException? Failure, int Attempts)> SendAsync(bool withProfile)
        {
            await using var h = IntegrationHarness.Create(build: withProfile ? b => Apply(b, provider) : null);
            h.Server.Given(Request.Create().WithPath(completions)).RespondWith(
                Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));
            var (_, error) = await h.GetAsync(completions);
            return (error as IntegrationFailureException, h.UpstreamAttempts(completions));
        }

        var (failure, sent) = await SendAsync(withProfile: true);
        var (without, _) = await SendAsync(withProfile: false);

        Assert.NotNull(failure);
        Assert.Equal(kind, failure.Kind);
        Assert.Equal(attempts, sent);

        // Where the profile decides, the bare classifier reads it otherwise (a kind or the provider's code): its rule
        // or check is needed. Elsewhere the profile adds nothing and carries no rule for it.
        Assert.Equal(profileDecides, (without?.Kind, without?.Classification.ProviderCode) != (failure.Kind, failure.Classification.ProviderCode));
    }

    [Theory]
    [InlineData("openai", "retry-after-ms", "2500", 2500)]
    [InlineData("azure", "retry-after-ms", "1500", 1500)]
    [InlineData("anthropic", "retry-after", "2", 2000)]
    public async Task Send_RateLimitWithProviderHint_WaitsTheHintThenSucceeds(string provider, string header, string value, int waitMs)
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, provider));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("rl").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader(header, value).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error":{"message":"Rate limit reached","type":"rate_limit_error","code":"rate_limit_exceeded"}}"""));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("rl").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"ok":true}"""));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([ServerHint.Wait(TimeSpan.FromMilliseconds(waitMs))], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_GeminiResourceExhaustedWithRetryInfo_WaitsTheRetryDelay()
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "gemini"));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("rl").WillSetStateTo("ok")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("Content-Type", "application/json").WithBody(
                """{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"6s"}]}}"""));
        h.Server.Given(Request.Create().WithPath("/call")).InScenario("rl").WhenStateIs("ok")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"candidates":[]}"""));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(2, h.UpstreamAttempts());
        Assert.Equal([ServerHint.Wait(TimeSpan.FromSeconds(6))], h.Clock.Waits);
    }

    [Fact]
    public async Task Send_FilteredFinishReasonOnAnotherEndpoint_NotReadAgainAndPasses()
    {
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "openai"));
        h.Server.Given(Request.Create().WithPath("/v1/embeddings")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
            .WithBody("""{"object":"list","data":[{"embedding":[0.1],"finish_reason":"content_filter"}]}"""));

        var (response, error) = await h.GetAsync("/v1/embeddings");

        Assert.Null(error);
        Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
    }

    [Fact]
    public async Task Send_HostRuleAndValidatorAddedAfterTheProfile_HostRuleFirstAndProfileChecksKept()
    {
        const string completions = "/v1/chat/completions";
        await using var h = IntegrationHarness.Create(build: b =>
        {
            Apply(b, "anthropic");
            b.AddFailureRule(FailureRule.ForStatus(529, FailureKind.Rejected));
            b.ValidateResponsesWith(Resilient.Integrations.Validation.JsonResponseValidator.Default);
        });
        h.Server.Given(Request.Create().WithPath(completions)).RespondWith(Response.Create().WithStatusCode(529).WithHeader("Content-Type", "application/json")
            .WithBody("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));
        h.Server.Given(Request.Create().WithPath("/v1/messages")).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
            .WithBody("event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"));

        var (_, overloaded) = await h.GetAsync(completions);
        var (_, streamError) = await h.GetAsync("/v1/messages");

        Assert.Equal(FailureKind.Rejected, Assert.IsType<IntegrationFailureException>(overloaded).Kind);
        Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(streamError).Kind);
    }

    [Fact]
    public async Task Send_HealthyEventStream_PassesWithItsFirstEventStillReadable()
    {
        const string stream = "event: ping\ndata: {\"type\": \"ping\"}\n\nevent: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        await using var h = IntegrationHarness.Create(build: b => Apply(b, "anthropic"));
        h.Server.Given(Request.Create().WithPath("/call")).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(stream));

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        Assert.Equal(stream, await response!.Content.ReadAsStringAsync(Ct));
    }

    public static TheoryData<string, string, FailureKind, int> ErrorsBeforeContent => new()
    {
        // provider, event stream, expected kind, upstream attempts (defaults: RateLimit 3 retries, Unavailable 2)
        { "anthropic", MessageStart + Error("overloaded_error"), FailureKind.Unavailable, 3 },
        { "anthropic", Ping + MessageStart + Ping + Error("rate_limit_error"), FailureKind.RateLimit, 4 },
        { "anthropic", MessageStart + Error("invalid_request_error"), FailureKind.Rejected, 1 },
        { "azure", PromptFilterResults + "data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n", FailureKind.Unavailable, 3 },
    };

    public static TheoryData<string, string> ErrorsAfterContent => new()
    {
        { "anthropic", MessageStart + ContentBlockStart + Error("overloaded_error") },
        { "anthropic", Ping + MessageStart + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n" + Error("overloaded_error") },
        { "azure", PromptFilterResults + OpenAiChunk + "data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\"}}\n\n" },
        { "openai", OpenAiChunk + "data: {\"error\":{\"message\":\"The server had an error.\",\"type\":\"server_error\"}}\n\n" },
    };

    private const string Ping = "event: ping\ndata: {\"type\": \"ping\"}\n\n";
    private const string MessageStart = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet-4-5\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n";
    private const string ContentBlockStart = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
    private const string PromptFilterResults = "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,\"content_filter_results\":{\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}]}\n\n";
    private const string OpenAiChunk = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n";

    private static string Error(string type) =>
        $"event: error\ndata: {{\"type\": \"error\", \"error\": {{\"type\": \"{type}\", \"message\": \"{type}\"}}}}\n\n";

    [Theory]
    [MemberData(nameof(ErrorsBeforeContent))]
    public async Task Send_EventStreamWithErrorAfterPreambleBeforeContent_ClassifiedAsTheErrorAndRetriedLikeIt(string provider, string stream, FailureKind kind, int attempts)
    {
        const string path = "/v1/messages";
        await using var h = IntegrationHarness.Create(build: b => Apply(b, provider));
        h.Server.Given(Request.Create().WithPath(path)).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(stream));

        var (response, error) = await h.GetAsync(path);

        Assert.Null(response);
        Assert.Equal(kind, Assert.IsType<IntegrationFailureException>(error).Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(path));
    }

    [Theory]
    [MemberData(nameof(ErrorsAfterContent))]
    public async Task Send_EventStreamWithErrorAfterContentStarted_PassesOnceAndUntouched(string provider, string stream)
    {
        const string path = "/v1/messages";
        await using var h = IntegrationHarness.Create(build: b => Apply(b, provider));
        h.Server.Given(Request.Create().WithPath(path)).RespondWith(
            Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(stream));

        var (response, error) = await h.GetAsync(path);

        Assert.Null(error);
        Assert.Equal(stream, await response!.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, h.UpstreamAttempts(path));
    }

    [Fact]
    public async Task Send_EventStreamThatStaysOpen_ReturnsAfterTheFirstContentEventWithoutWaitingForMore()
    {
        using var peer = RawHttpPeer.OpenEventStream(Ping + MessageStart + ContentBlockStart);
        await using var h = IntegrationHarness.Create(configure: o => o.BaseAddress = new Uri(peer.Url), build: b => Apply(b, "anthropic"));

        // No fake time passes: a reader that waited for a fuller prefix would never return.
        using var response = await h.Client.GetAsync("/v1/messages", HttpCompletionOption.ResponseHeadersRead, Ct).WaitAsync(Eventually.Deadline, Ct);

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
        Assert.Equal("event: ping", await reader.ReadLineAsync(Ct));
    }
}
