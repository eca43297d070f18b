using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Policies;

public sealed class RetryBudgetTests
{
    [Fact]
    public async Task Send_OutageBeyondBudget_FailuresSurfaceWithoutRetry()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RetryBudget.MinRetries = 3;
            o.RetryBudget.RetryRatio = 0;
            o.RetryBudget.Window = TimeSpan.FromMinutes(10);
            o.CircuitBreaker.MinimumThroughput = 1000;
        });
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        using var rejections = h.Metric("resilient_integrations.retry_budget.rejections");

        for (int i = 0; i < 5; i++)
        {
            var (_, error) = await h.GetAsync();
            Assert.Equal(FailureKind.Unavailable, Assert.IsType<IntegrationFailureException>(error).Kind);
        }

        // 5 calls, 3 budgeted retries: 8 attempts instead of 15.
        Assert.Equal(8, h.UpstreamAttempts());
        Assert.Equal(4, rejections.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task Send_BudgetRatio_AllowsShareOfRecentRequests()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RetryBudget.MinRetries = 0;
            o.RetryBudget.RetryRatio = 0.2;
            o.RetryBudget.Window = TimeSpan.FromMinutes(10);
        });
        h.Server.Given(Request.Create().WithPath("/ok").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        for (int i = 0; i < 9; i++)
        {
            await h.GetAsync("/ok");
        }

        // 10 requests so far -> 2 retries allowed.
        await h.GetAsync();

        Assert.Equal(3, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_BudgetWindowPasses_RetriesAllowedAgain()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RetryBudget.MinRetries = 2;
            o.RetryBudget.RetryRatio = 0;
            o.RetryBudget.Window = TimeSpan.FromSeconds(10);
            o.CircuitBreaker.MinimumThroughput = 1000;
        });
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        await h.GetAsync();
        await h.GetAsync();
        Assert.Equal(4, h.UpstreamAttempts());
        h.Clock.Advance(TimeSpan.FromSeconds(20));
        await h.GetAsync();

        Assert.Equal(7, h.UpstreamAttempts());
    }

    [Fact]
    public async Task Send_BudgetDisabled_RetriesEveryCall()
    {
        await using var h = IntegrationHarness.Create(o =>
        {
            o.RetryBudget.Enabled = false;
            o.RetryBudget.MinRetries = 0;
            o.CircuitBreaker.MinimumThroughput = 1000;
        });
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));

        for (int i = 0; i < 4; i++)
        {
            await h.GetAsync();
        }

        Assert.Equal(12, h.UpstreamAttempts());
    }
}
