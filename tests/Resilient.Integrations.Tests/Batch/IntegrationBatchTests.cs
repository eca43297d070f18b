using System.Net.Http.Json;
using Resilient.Integrations.Batch;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Batch;

public sealed class IntegrationBatchTests
{
    private static void Item(IntegrationHarness h, int id, int status, string body, string contentType = "application/json") =>
        h.Server.Given(Request.Create().WithPath($"/items/{id}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));

    [Fact]
    public async Task RunAsync_BadAndRejectedItems_SkippedAndBatchContinues_AuthStopsIt()
    {
        await using var h = IntegrationHarness.Create();
        Item(h, 1, 200, """{"name":"Ada"}""");
        Item(h, 2, 200, "<html>login</html>", "text/html");
        Item(h, 3, 404, """{"error":{"code":"not_found"}}""");
        Item(h, 4, 200, """{"name":"Grace"}""");
        Item(h, 5, 401, """{"error":{"code":"invalid_api_key"}}""");
        Item(h, 6, 200, """{"name":"Edsger"}""");
        var client = h.Client;

        var report = await h.Clock.RunAsync(IntegrationBatch.RunAsync(
            [1, 2, 3, 4, 5, 6],
            async (id, ct) => (await client.GetFromJsonAsync<Contact>($"/items/{id}", ct))!.Name,
            cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal([(1, "Ada"), (4, "Grace")], report.Done.Select(d => (d.Item, d.Result)));
        Assert.Equal([(2, FailureKind.BadResponse), (3, FailureKind.Rejected), (5, FailureKind.Auth)], report.Skipped.Select(s => (s.Item, s.Failure.Kind)));
        var notAttempted = Assert.Single(report.NotAttempted);
        Assert.Equal(6, notAttempted.Item);
        Assert.Contains("Auth", notAttempted.Reason, StringComparison.Ordinal);
        Assert.Equal(FailureKind.Auth, report.StoppedBy!.Value.Kind);
        Assert.DoesNotContain(h.Server.LogEntries, e => e.RequestMessage?.Path == "/items/6");
        Assert.Equal("2 done, 3 skipped, 1 not attempted (stopped by Auth (HTTP 401, invalid_api_key))", report.ToString());
    }

    [Fact]
    public async Task RunAsync_QuotaExhausted_StopsBatch()
    {
        int calls = 0;
        var report = await IntegrationBatch.RunAsync(
            ["a", "b", "c"],
            (item, _) =>
            {
                calls++;
                return item == "a"
                    ? Task.FromException<int>(new IntegrationFailureException("ai", new FailureClassification(FailureKind.QuotaExhausted)))
                    : Task.FromResult(1);
            },
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, calls);
        Assert.Equal(2, report.NotAttempted.Count);
    }

    [Fact]
    public async Task RunAsync_CustomStopOn_StopsOnUnavailable()
    {
        var options = new BatchOptions();
        options.StopOn.Add(FailureKind.Unavailable);

        var report = await IntegrationBatch.RunAsync(
            [1, 2],
            (_, _) => Task.FromException<int>(new HttpRequestException(HttpRequestError.ConnectionError, "refused")),
            options,
            TestContext.Current.CancellationToken);

        Assert.Equal(FailureKind.Unavailable, report.Skipped.Single().Failure.Kind);
        Assert.Single(report.NotAttempted);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_ThrowsRatherThanReporting()
    {
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => IntegrationBatch.RunAsync(
            [1, 2, 3],
            async (_, ct) =>
            {
                await cts.CancelAsync();
                ct.ThrowIfCancellationRequested();
                return 0;
            },
            cancellationToken: cts.Token));
    }

    private sealed record Contact(string Name);
}
