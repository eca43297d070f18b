using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Resilient.Integrations.Deferral;

// Usage: CrashHelper <enqueue-and-replay|replay|postgres-replay> <database file, or PostgreSQL connection string> <service url> <count>
if (args.Length != 4)
{
    Console.Error.WriteLine("usage: <enqueue-and-replay|replay|postgres-replay> <database> <service url> <count>");
    return 2;
}

string mode = args[0], database = args[1], url = args[2];
int count = int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture);

var services = new ServiceCollection();
if (mode == "postgres-replay")
{
    // A short lease, so the test's second instance takes the queue over soon after this process is killed.
    services.AddPostgreSqlDeferredWriteStore(o =>
    {
        o.ConnectionString = database;
        o.LeaseDuration = TimeSpan.FromSeconds(5);
    });
}
else
{
    services.AddSqliteDeferredWriteStore(o => o.Path = database);
}

services.AddResilientIntegration("crm", o =>
{
    o.BaseAddress = new Uri(url);
    o.Deferral.ReplayInterval = TimeSpan.FromSeconds(1);
    o.Deferral.RetryDelay = TimeSpan.FromSeconds(1);
});
await using var provider = services.BuildServiceProvider();
var store = provider.GetRequiredService<IDeferredWriteStore>();

if (mode == "enqueue-and-replay")
{
    var now = DateTimeOffset.UtcNow;
    for (int i = 0; i < count; i++)
    {
        await store.EnqueueAsync(
            new DeferredWrite
            {
                Integration = "crm",
                Method = "POST",
                Uri = new Uri("/items", UriKind.Relative),
                Headers = [new("Content-Type", "application/json")],
                Body = System.Text.Encoding.UTF8.GetBytes($$"""{"n":{{i}}}"""),
                IdempotencyKey = $"item-{i}",
                EnqueuedAt = now,
                NextAttemptAt = now,
            },
            CancellationToken.None);
    }

    Console.WriteLine("ENQUEUED");
}

foreach (var hosted in provider.GetServices<IHostedService>())
{
    await hosted.StartAsync(CancellationToken.None);
}

// Replay runs in the background; the parent kills this process in the middle of it, or waits for "DRAINED".
// The deadline only ends a replay that hangs: a loaded machine may take long, never this long.
var deadline = DateTime.UtcNow.AddSeconds(120);
while (DateTime.UtcNow < deadline)
{
    if ((await store.GetStatsAsync("crm", CancellationToken.None)).Depth == 0)
    {
        Console.WriteLine("DRAINED");
        return 0;
    }

    await Task.Delay(100);
}

return 1;
