using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Alerts;

public sealed class AlertSinkIsolationTests
{
    [Fact]
    public async Task Send_ThrowingAndHangingSinksRegistered_RequestsNeitherDelayedNorFailedAndOtherSinksServed()
    {
        var hanging = new BlockingSink();
        await using var h = IntegrationHarness.Create(build: b => b.AddAlertSink(new ThrowingSink()).AddAlertSink(hanging));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(401));
        h.Server.Given(Request.Create().WithPath("/ok").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        var client = h.Client;
        var start = h.Clock.GetUtcNow();

        // Plain awaits, no clock help: if a sink held the request, these would never complete.
        var auth = await Record.ExceptionAsync(() => client.GetAsync("/call", TestContext.Current.CancellationToken));
        using var ok = await client.GetAsync("/ok", TestContext.Current.CancellationToken);

        Assert.Equal(FailureKind.Auth, Assert.IsType<IntegrationFailureException>(auth).Kind);
        Assert.True(ok.IsSuccessStatusCode);
        Assert.Equal(start, h.Clock.GetUtcNow());
        Assert.Equal(AlertSeverity.Critical, Assert.Single(await h.Alerts.WaitForAsync(1)).Severity);
        Assert.True(hanging.Entered.Wait(Eventually.Deadline, TestContext.Current.CancellationToken));
    }

    private sealed class ThrowingSink : IAlertSink
    {
        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken) => throw new InvalidOperationException("pager down");
    }

    /// <summary>Blocks its thread synchronously, the worst a sink can do.</summary>
    private sealed class BlockingSink : IAlertSink
    {
        public ManualResetEventSlim Entered { get; } = new();

        public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
        {
            Entered.Set();
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));
            return ValueTask.CompletedTask;
        }
    }
}
