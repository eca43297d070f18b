using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>A process that is killed in the middle of replay loses nothing: the durable store and idempotency keys carry it.</summary>
public sealed partial class CrashRecoveryTests : IDisposable
{
    private const int Items = 40;
    private static readonly string Count = Items.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ri-crash-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Replay_ProcessKilledMidway_AfterRestartEveryItemDeliveredWithStableKeys()
    {
        using var server = LoopbackServer.Start();

        // The first ten deliveries are answered; the next ones are held until the first process is gone, so it is
        // killed in the middle of replay however slowly this machine runs. A held one then counts as delivered
        // (the service got it) but unacknowledged, as a delivery cut off by a crash is.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int received = 0;
        server.Given(Request.Create().WithPath("/items").UsingPost())
            .RespondWith(Response.Create().WithCallback(async _ =>
            {
                if (Interlocked.Increment(ref received) > 10)
                {
                    await held.Task;
                }

                return (WireMock.IResponseMessage)new WireMock.ResponseMessage { StatusCode = 200 };
            }));
        string database = Path.Combine(_folder, "deferred.db");

        using (var first = CrashHelperProcess.Start("enqueue-and-replay", database, server.Url!, Count))
        {
            await CrashHelperProcess.WaitForAsync(() => server.LogEntries.Count() >= 10 && Volatile.Read(ref received) > 10, first);
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        int deliveredBeforeCrash = server.LogEntries.Count();
        Assert.InRange(deliveredBeforeCrash, 10, Items - 1); // killed in the middle
        held.SetResult();

        using (var second = CrashHelperProcess.Start("replay", database, server.Url!, Count))
        {
            string output = await second.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await second.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(second.ExitCode == 0, $"replay did not drain: {output}");
        }

        var deliveries = server.LogEntries
            .Select(e => (Key: e.RequestMessage!.Headers!["Idempotency-Key"].Single(), Body: e.RequestMessage.Body!))
            .ToList();
        Assert.Equal(Enumerable.Range(0, Items).Select(i => $"item-{i}").Order(), deliveries.Select(d => d.Key).Distinct().Order());
        Assert.All(deliveries, d => Assert.Equal(d.Key, "item-" + ItemNumber().Match(d.Body).Groups[1].Value)); // a repeat carries its item's key
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"""n"":(\d+)")]
    private static partial Regex ItemNumber();
}
