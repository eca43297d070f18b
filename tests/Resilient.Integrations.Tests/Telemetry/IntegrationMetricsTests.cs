using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Telemetry;

public sealed class IntegrationMetricsTests
{
    [Fact]
    public async Task Send_FailuresRetriesAndAlerts_RecordedByIntegrationAndKind()
    {
        await using var h = IntegrationHarness.Create();
        using var failures = h.Metric("resilient_integrations.failures");
        using var retries = h.Metric("resilient_integrations.retries");
        using var sent = h.Metric("resilient_integrations.alerts.sent");
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        await h.GetAsync();
        await sent.WaitForMeasurementsAsync(2, Eventually.Deadline); // the logging sink and the recording sink

        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("crm", failure.Tags["integration"]);
        Assert.Equal("Unavailable", failure.Tags["kind"]);
        Assert.Equal(2, retries.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(retries.GetMeasurementSnapshot(), m => Assert.Equal("Unavailable", m.Tags["kind"]));
        Assert.All(sent.GetMeasurementSnapshot(), m => Assert.Equal("Warning", m.Tags["severity"]));
    }

    [Fact]
    public async Task Send_Success_RecordsNoFailure()
    {
        await using var h = IntegrationHarness.Create();
        using var failures = h.Metric("resilient_integrations.failures");
        h.Server.Given(Request.Create().WithPath("/call").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));

        await h.GetAsync();

        Assert.Empty(failures.GetMeasurementSnapshot());
    }
}
