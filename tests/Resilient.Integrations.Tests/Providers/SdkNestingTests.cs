using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Providers;

/// <summary>
/// <see cref="IResilientIntegration.ExecuteAsync{T}"/> around the OpenAI SDK on the integration's own HttpClient, with
/// the README's defaults (waits of 1 s and 2 s) and a 400 ms attempt timeout: exactly one layer retries and times
/// attempts, so each kind ends as itself after its own number of attempts.
/// </summary>
public sealed class SdkNestingTests
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(400);
    private const string Path = "/v1/chat/completions";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IntegrationHarness Create()
    {
        var h = IntegrationHarness.Create(o => o.AttemptTimeout = AttemptTimeout, build: b => b.ForOpenAI(o => o.HealthProbe = false));
        h.Clock.Deadlines.Add(AttemptTimeout);
        return h;
    }

    private static Task<string> Summarise(IntegrationHarness h, string endpoint, CancellationToken ct)
    {
        var chat = new ChatClient("gpt-4o-mini", new ApiKeyCredential("sk-sdk-own-key"), new OpenAIClientOptions
        {
            Endpoint = new Uri(endpoint + "/v1"),
            Transport = new HttpClientPipelineTransport(h.Client),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
        return chat.CompleteChatAsync([new UserChatMessage("Summarise the week")], cancellationToken: ct)
            .ContinueWith(t => t.Result.Value.Content[0].Text, ct, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    [Theory]
    [InlineData(503, null, FailureKind.Unavailable, 3)]
    [InlineData(429, null, FailureKind.RateLimit, 4)]
    [InlineData(401, null, FailureKind.Auth, 1)]
    [InlineData(429, """{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}}""", FailureKind.QuotaExhausted, 1)]
    [InlineData(400, """{"error":{"message":"bad","type":"invalid_request_error","code":null}}""", FailureKind.Rejected, 1)]
    [InlineData(200, "<html>maintenance</html>", FailureKind.BadResponse, 1)]
    public async Task ExecuteAsync_SdkOnOwnClient_EachKindEndsAsItselfAfterItsOwnAttempts(int status, string? body, FailureKind kind, int attempts)
    {
        await using var h = Create();
        var response = Response.Create().WithStatusCode(status);
        response = body is null ? response : response.WithHeader("Content-Type", body.StartsWith('<') ? "text/html" : "application/json").WithBody(body);
        h.Server.Given(Request.Create().WithPath(Path).UsingPost()).RespondWith(response);
        var ai = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);

        var error = await Record.ExceptionAsync(() => h.Clock.RunAsync(ai.ExecuteAsync("weekly-summary", ct => Summarise(h, h.Server.Url!, ct), Ct)));

        Assert.Equal(kind, IntegrationFailureException.Find(error!, IntegrationHarness.Name)?.Kind);
        Assert.Equal(attempts, h.UpstreamAttempts(Path));
    }

    [Fact]
    public async Task ExecuteAsync_SdkOnOwnClientUpstreamHangs_TimeoutAfterTwoAttemptsOfTheInnerLayer()
    {
        using var peer = RawHttpPeer.Hang();
        await using var h = Create();
        var ai = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);
        var call = ai.ExecuteAsync("weekly-summary", ct => Summarise(h, peer.Url, ct), Ct);

        var error = await HangingAttempts.RunAsync(call, h.Clock, () => peer.Requests, AttemptTimeout);

        Assert.Equal(FailureKind.Timeout, IntegrationFailureException.Find(error!, IntegrationHarness.Name)?.Kind);
        Assert.Equal(2, peer.Requests);
    }

    [Fact]
    public async Task ExecuteAsync_DelegateNotOnOwnClientHangs_AttemptTimeoutStillApplies()
    {
        await using var h = Create();
        var ai = h.Provider.GetRequiredKeyedService<IResilientIntegration>(IntegrationHarness.Name);
        int started = 0;
        var call = ai.ExecuteAsync<string>("slow-driver", async ct =>
        {
            Interlocked.Increment(ref started);
            await Task.Delay(Timeout.Infinite, ct);
            return "never";
        }, Ct);

        var error = await HangingAttempts.RunAsync(call, h.Clock, () => Volatile.Read(ref started), AttemptTimeout);

        var failure = Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(FailureKind.Timeout, failure.Kind);
        Assert.Equal(2, started);
    }
}
