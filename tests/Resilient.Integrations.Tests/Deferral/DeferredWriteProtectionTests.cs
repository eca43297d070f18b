using System.Net;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Deferral.Internal;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>Deferred writes at rest: what the SQLite files hold with and without a protector, and a write whose key is gone.</summary>
public sealed class DeferredWriteProtectionTests : IDisposable
{
    private const string BodySecret = "BODY-SECRET-7f3a9c";
    private const string HeaderSecret = "HEADER-SECRET-91c2e4";
    private const string Body = $$"""{"name":"Ada","api_key":"{{BodySecret}}"}""";

    private static readonly TimeSpan ReplayInterval = TimeSpan.FromSeconds(30);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "ri-protect-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DbPath => Path.Combine(_folder, "deferred.db");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueueAndReplay_SqliteStore_SecretsInFilesOnlyWithoutProtectionAndOriginalDelivered(bool protect)
    {
        await using var h = Create(s =>
        {
            s.AddSqliteDeferredWriteStore(o => o.Path = DbPath);
            if (protect)
            {
                s.AddDataProtection().UseEphemeralDataProtectionProvider();
                s.AddDeferredWriteDataProtection();
            }
        });
        Contacts(h, 503);

        var deferral = (await PostAsync(h)).GetDeferral()!;

        // Read while the store is open: the committed write sits in the -wal file until a checkpoint.
        Assert.True(new FileInfo(DbPath + "-wal").Length > 0);
        string files = FileText();
        Assert.Contains(deferral.IdempotencyKey, files, StringComparison.Ordinal); // the files were read
        Assert.Equal(!protect, files.Contains(BodySecret, StringComparison.Ordinal));
        Assert.Equal(!protect, files.Contains(HeaderSecret, StringComparison.Ordinal));
        Assert.Equal(!protect, files.Contains("Ada", StringComparison.Ordinal));

        Contacts(h, 201);
        await h.StartHostedServicesAsync();
        await NextReplayAsync(h);
        var store = h.Provider.GetRequiredService<IDeferredWriteStore>();
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.Depth == 0);

        var delivered = Assert.Single(h.Server.LogEntries).RequestMessage!;
        Assert.Equal(Body, delivered.Body);
        Assert.Equal(HeaderSecret, delivered.Headers!["X-Tenant-Token"].Single());
        Assert.Equal(deferral.IdempotencyKey, delivered.Headers!["Idempotency-Key"].Single());
        Assert.StartsWith("application/json", delivered.Headers!["Content-Type"].Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_KeyThatProtectedTheWriteIsGone_DeadLetteredStillProtectedWithCriticalAlert()
    {
        var original = new DataProtectionDeferredWriteProtector(new EphemeralDataProtectionProvider());
        await using (var before = Create(s => s.AddSqliteDeferredWriteStore(o => o.Path = DbPath).AddDeferredWriteProtection(original)))
        {
            Contacts(before, 503);
            Assert.NotNull((await PostAsync(before)).GetDeferral());
        }

        // Restarted with a new key ring (an ephemeral one, or one that was not persisted).
        await using var h = Create(s => s
            .AddSqliteDeferredWriteStore(o => o.Path = DbPath)
            .AddDeferredWriteProtection(new DataProtectionDeferredWriteProtector(new EphemeralDataProtectionProvider())));
        Contacts(h, 201);
        await h.StartHostedServicesAsync();
        await NextReplayAsync(h);
        var store = h.Provider.GetRequiredService<IDeferredWriteStore>();
        await Eventually.WaitUntilAsync(() => store.GetStatsAsync("crm", Ct).AsTask().Result.DeadLettered == 1);

        Assert.Empty(h.Server.LogEntries);  // nothing half-read was sent
        Assert.Equal(0, (await store.GetStatsAsync("crm", Ct)).Depth);  // and it no longer blocks the queue
        // The alert is raised after the store moved the write: wait for the alert itself.
        await h.Alerts.WaitForAsync(a => a.Severity == AlertSeverity.Critical && a.Message.Contains("could not be unprotected", StringComparison.Ordinal));
        var alert = Assert.Single(await h.SettledAlertsAsync(), a => a.Severity == AlertSeverity.Critical);
        Assert.Contains("could not be unprotected", alert.Message, StringComparison.Ordinal);
        Assert.Contains("dead-lettered, still protected", alert.Message, StringComparison.Ordinal);

        // Kept, not lost: with the original key back, the dead letter reads as it was sent.
        var (reason, stored) = DeadLetter();
        Assert.Contains("could not be unprotected", reason, StringComparison.Ordinal);
        var restored = DeferredWriteProtection.Unprotect(stored, original);
        Assert.Equal(Body, Encoding.UTF8.GetString(restored.Body.Span));
        Assert.Contains(new KeyValuePair<string, string>("X-Tenant-Token", HeaderSecret), restored.Headers);
    }

    [Fact]
    public void Unprotect_WriteStoredBeforeProtectionWasOn_ReturnedAsStored()
    {
        var write = Write();

        var read = DeferredWriteProtection.Unprotect(write, new DataProtectionDeferredWriteProtector(new EphemeralDataProtectionProvider()));

        Assert.Same(write, read);
    }

    [Fact]
    public void Protect_ThenUnprotect_RoundTripsBodyAndHeadersAndHidesBoth()
    {
        var protector = new DataProtectionDeferredWriteProtector(new EphemeralDataProtectionProvider());

        var sealedWrite = DeferredWriteProtection.Protect(Write(), protector);
        var read = DeferredWriteProtection.Unprotect(sealedWrite, protector);

        Assert.DoesNotContain(BodySecret, Encoding.Latin1.GetString(sealedWrite.Body.Span), StringComparison.Ordinal);
        Assert.DoesNotContain(sealedWrite.Headers, h => h.Value.Contains(HeaderSecret, StringComparison.Ordinal));
        Assert.Equal("order-42", sealedWrite.IdempotencyKey);
        Assert.Equal(Body, Encoding.UTF8.GetString(read.Body.Span));
        Assert.Equal(Write().Headers, read.Headers);
    }

    [Fact]
    public void Unprotect_StoredProtectedButNoProtectorRegistered_ThrowsTypedErrorNamingTheFix()
    {
        var sealedWrite = DeferredWriteProtection.Protect(Write(), new DataProtectionDeferredWriteProtector(new EphemeralDataProtectionProvider()));

        var ex = Assert.Throws<DeferredWriteProtectionException>(() => DeferredWriteProtection.Unprotect(sealedWrite, null));

        Assert.Equal("crm", ex.Integration);
        Assert.Equal(7, ex.WriteId);
        Assert.Contains("AddDeferredWriteProtection", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddDeferredWriteDataProtection_DataProtectionNotRegistered_ClearError()
    {
        using var provider = new ServiceCollection().AddDeferredWriteDataProtection().BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IDeferredWriteProtector>());

        Assert.Contains("AddDataProtection", ex.Message, StringComparison.Ordinal);
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
            // Best effort on a temp folder: SQLite may close its -wal or -shm a moment after the store was disposed.
        }
    }

    private static IntegrationHarness Create(Action<IServiceCollection> services) =>
        IntegrationHarness.Create(
            o =>
            {
                o.Deferral.DeferWrites = true;
                o.Deferral.ReplayInterval = ReplayInterval;
            },
            services: services);

    private static DeferredWrite Write() => new()
    {
        Id = 7,
        Integration = "crm",
        Method = "POST",
        Uri = new Uri("/contacts", UriKind.Relative),
        Headers = [new("X-Tenant-Token", HeaderSecret), new("Content-Type", "application/json; charset=utf-8")],
        Body = Encoding.UTF8.GetBytes(Body),
        IdempotencyKey = "order-42",
    };

    private static void Contacts(IntegrationHarness h, int status)
    {
        h.Server.Reset();
        h.Server.Given(Request.Create().WithPath("/contacts").UsingPost()).RespondWith(Response.Create().WithStatusCode(status));
    }

    private static async Task<HttpResponseMessage> PostAsync(IntegrationHarness h)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/contacts") { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Tenant-Token", HeaderSecret);
        request.Headers.Add("Idempotency-Key", "order-42");
        var response = await h.Clock.RunAsync(h.Client.SendAsync(request, Ct));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response;
    }

    /// <summary>Waits for the replay loop to set its next turn, then moves the clock to it.</summary>
    private static async Task NextReplayAsync(IntegrationHarness h)
    {
        await Eventually.WaitUntilAsync(() => h.Clock.HasTimerDueAt(h.Clock.GetUtcNow() + ReplayInterval));
        h.Clock.Advance(ReplayInterval);
    }

    private string FileText() => Encoding.Latin1.GetString(Directory.GetFiles(_folder).SelectMany(File.ReadAllBytes).ToArray());

    private (string Reason, DeferredWrite Stored) DeadLetter()
    {
        using var connection = new SqliteConnection($"Data Source={DbPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT reason, headers, body FROM dead_letters;";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        var headers = System.Text.Json.JsonSerializer.Deserialize<string[][]>(reader.GetString(1))!;
        return (reader.GetString(0), new DeferredWrite
        {
            Id = 1,
            Integration = "crm",
            Headers = [.. headers.Select(p => new KeyValuePair<string, string>(p[0], p[1]))],
            Body = (byte[])reader.GetValue(2),
            IdempotencyKey = "order-42",
        });
    }
}
