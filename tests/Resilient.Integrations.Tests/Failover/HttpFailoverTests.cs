using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Failover;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Health;
using Resilient.Integrations.Status;
using Resilient.Integrations.Testing;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Resilient.Integrations.Tests.Failover;

public sealed class HttpFailoverTests : IDisposable
{
    private readonly WireMockServer _secondary = LoopbackServer.Start();

    public void Dispose()
    {
        _secondary.Stop();
        _secondary.Dispose();
    }

    private IntegrationHarness Create(Action<Resilient.Integrations.Policies.ResilientIntegrationOptions>? configure = null) => IntegrationHarness.Create(o =>
    {
        o.Failover.Endpoints.Add(new Uri(_secondary.Url!));
        o.CircuitBreaker.MinimumThroughput = 5;
        configure?.Invoke(o);
    });

    private static void Respond(WireMockServer server, int status, string path = "/call", string body = """{"ok":true}""") =>
        server.Given(Request.Create().WithPath(path)).RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));

    private static int Attempts(WireMockServer server, string path = "/call") => server.LogEntries.Count(e => e.RequestMessage?.Path == path);

    private Uri SecondaryBase => new(_secondary.Url! + "/");

    [Fact]
    public async Task Send_PrimaryDown_SecondaryServesAndTheAnswerSaysSo()
    {
        await using var h = Create();
        using var served = h.Metric("resilient_integrations.failover.served");
        Respond(h.Server, 503);
        Respond(_secondary, 200);

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
            var endpoint = response.GetServedEndpoint();
            Assert.NotNull(endpoint);
            Assert.Equal(SecondaryBase, endpoint.Endpoint);
            Assert.Equal($"served by {SecondaryBase}: primary unavailable", endpoint.Notice);
            Assert.Equal(SecondaryBase.ToString(), Assert.Single(response.Headers.GetValues(FailoverResponseExtensions.ServedByHeader)));
            Assert.Null(response.GetDegradation());
        }

        Assert.Equal(1, Attempts(h.Server));
        Assert.Equal(1, Attempts(_secondary));
        Assert.Equal(HealthState.Yellow, h.Provider.GetRequiredService<IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).State);
        var alert = Assert.Single(await h.SettledAlertsAsync(), a => a.Topic == "failover");
        Assert.Contains(SecondaryBase.ToString(), alert.Message, StringComparison.Ordinal);
        Assert.Equal(1, served.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Send_SecondaryServesManyCalls_AlertsOncePerEpisode()
    {
        await using var h = Create(o => o.CircuitBreaker.MinimumThroughput = 100);
        Respond(h.Server, 503);
        Respond(_secondary, 200);

        for (int i = 0; i < 4; i++)
        {
            var (response, _) = await h.GetAsync();
            response!.Dispose();
        }

        Assert.Single(await h.SettledAlertsAsync(), a => a.Topic == "failover");
    }

    [Fact]
    public async Task Send_PrimaryCircuitOpen_NoAttemptAtPrimaryUntilHalfOpenThenPrimaryAgainAndGreen()
    {
        await using var h = Create(o => o.Unavailable.MaxRetries = 0);
        Respond(h.Server, 503);
        Respond(_secondary, 200);
        for (int i = 0; i < 5; i++)
        {
            var (response, _) = await h.GetAsync();
            Assert.NotNull(response);
            Assert.NotNull(response.GetServedEndpoint());
            response.Dispose();
        }

        var status = await h.Provider.GetRequiredService<IResilienceStatus>().GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal("Open", status.Integrations[0].Circuits[h.Server.Url + "/"]);
        Assert.Equal("Closed", status.Integrations[0].Circuits[SecondaryBase.ToString()]);
        Assert.Equal(5, Attempts(h.Server));

        // Open: every call goes straight to the secondary, without waiting.
        for (int i = 0; i < 10; i++)
        {
            var (response, _) = await h.GetAsync();
            Assert.NotNull(response);
            Assert.Equal("circuit open", response.GetServedEndpoint()!.PrimaryFailure.Reason);
            response.Dispose();
        }

        Assert.Equal(5, Attempts(h.Server));
        Assert.Equal(15, Attempts(_secondary));

        // Half-open after the break: the primary is tried again, answers, and the integration is Green again.
        h.Server.Reset();
        Respond(h.Server, 200);
        h.Clock.Advance(TimeSpan.FromSeconds(30));
        var (back, _) = await h.GetAsync();
        using (back)
        {
            Assert.Equal(HttpStatusCode.OK, back!.StatusCode);
            Assert.Null(back.GetServedEndpoint());
        }

        Assert.Equal(1, Attempts(h.Server));
        Assert.Equal(15, Attempts(_secondary));
        Assert.Equal(HealthState.Green, h.Provider.GetRequiredService<IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).State);
        status = await h.Provider.GetRequiredService<IResilienceStatus>().GetAsync(TestContext.Current.CancellationToken);
        Assert.Equal("Closed", status.Integrations[0].Circuit);
        Assert.Empty(status.Integrations[0].DegradedBy);
    }

    [Fact]
    public async Task Send_UnsafePostAfter503_NotRepeatedOnSecondary()
    {
        await using var h = Create();
        Respond(h.Server, 503, "/write");
        Respond(_secondary, 200, "/write");

        var error = await Assert.ThrowsAsync<IntegrationFailureException>(() => h.Clock.RunAsync(
            h.Client.PostAsync("/write", new StringContent("{}"), TestContext.Current.CancellationToken)));

        Assert.Equal(FailureKind.Unavailable, error.Kind);
        Assert.Equal(1, Attempts(h.Server, "/write"));
        Assert.Equal(0, Attempts(_secondary, "/write"));
    }

    [Fact]
    public async Task Send_UnsafePostToRefusedPrimary_SentToSecondary()
    {
        using var refused = RefusedPort.Hold();
        await using var h = Create(o => o.BaseAddress = refused.Url);
        Respond(_secondary, 200, "/write");

        using var response = await h.Clock.RunAsync(h.Client.PostAsync("/write", new StringContent("{}"), TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SecondaryBase, response.GetServedEndpoint()!.Endpoint);
        Assert.Equal(1, Attempts(_secondary, "/write"));
    }

    [Fact]
    public async Task Send_PostWithIdempotencyKeyAfter503_FailsOverWithTheSameKey()
    {
        await using var h = Create();
        Respond(h.Server, 503, "/write");
        Respond(_secondary, 200, "/write");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/write") { Content = new StringContent("{}") };
        request.Headers.Add("Idempotency-Key", "k-42");

        using var response = await h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, Attempts(h.Server, "/write"));
        var sent = Assert.Single(_secondary.LogEntries);
        Assert.Equal("k-42", sent.RequestMessage!.Headers!["Idempotency-Key"].Single());
    }

    [Fact]
    public async Task Send_PathAndQueryUnderPrimaryBase_KeptOnSecondary()
    {
        await using var h = Create();
        Respond(h.Server, 503, "/v1/orders");
        Respond(_secondary, 200, "/v1/orders");

        using var response = await h.Clock.RunAsync(h.Client.GetAsync("/v1/orders?page=2", TestContext.Current.CancellationToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = Assert.Single(_secondary.LogEntries);
        Assert.Equal("/v1/orders", sent.RequestMessage!.Path);
        Assert.Equal("2", sent.RequestMessage.Query!["page"].Single());
    }

    [Fact]
    public async Task Send_AllEndpointsDown_KeptCopyServedWithNotice()
    {
        await using var h = Create();
        Respond(h.Server, 200);
        (await h.GetAsync()).Response!.Dispose();
        h.Server.Reset();
        Respond(h.Server, 503);
        Respond(_secondary, 503);

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        using (response)
        {
            Assert.NotNull(response);
            var degradation = response.GetDegradation();
            Assert.NotNull(degradation);
            Assert.Equal(FailureKind.Unavailable, degradation.Kind);
            Assert.Null(response.GetServedEndpoint());
        }

        Assert.Equal(Attempts(h.Server), Attempts(_secondary));
    }

    [Fact]
    public async Task Send_CopyKeptFromASecondary_ServedLaterWithoutSayingTheSecondaryServedIt()
    {
        await using var h = Create();
        Respond(h.Server, 503);
        Respond(_secondary, 200);
        var (served, _) = await h.GetAsync();
        using (served)
        {
            Assert.NotNull(served);
            Assert.NotNull(served.GetServedEndpoint());
        }

        _secondary.Reset();
        Respond(_secondary, 503);

        var (response, error) = await h.GetAsync();

        Assert.Null(error);
        using (response)
        {
            Assert.NotNull(response);
            Assert.NotNull(response.GetDegradation());
            Assert.Null(response.GetServedEndpoint());
            Assert.False(response.Headers.Contains(FailoverResponseExtensions.ServedByHeader)); // a copy is no live answer of the secondary
        }
    }

    [Fact]
    public async Task Send_AllEndpointsDownNoCopy_ThrowsIntegrationFailure()
    {
        await using var h = Create();
        Respond(h.Server, 503);
        Respond(_secondary, 503);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/call");

        var error = await Assert.ThrowsAsync<IntegrationFailureException>(() => h.Clock.RunAsync(h.Client.SendAsync(request, TestContext.Current.CancellationToken)));

        Assert.Equal(FailureKind.Unavailable, error.Kind);
        Assert.Equal(Attempts(h.Server), Attempts(_secondary));
        Assert.Equal(new Uri(new Uri(h.Server.Url!), "/call"), request.RequestUri); // the failure is the primary's: a queued write replays there
    }

    [Fact]
    public async Task Send_PrimaryHealthy_SecondaryNeverCalledAndNothingMarked()
    {
        await using var h = Create();
        Respond(h.Server, 200);
        Respond(_secondary, 200);

        var (response, _) = await h.GetAsync();

        using (response)
        {
            Assert.NotNull(response);
            Assert.Null(response.GetServedEndpoint());
            Assert.False(response.Headers.Contains(FailoverResponseExtensions.ServedByHeader));
        }

        Assert.Equal(0, Attempts(_secondary));
        Assert.Equal(HealthState.Green, h.Provider.GetRequiredService<IIntegrationHealthMonitor>().Get(IntegrationHarness.Name).State);
    }
}
