using Npgsql;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql;
using Resilient.Integrations.Tests.Support;

namespace Resilient.Integrations.Tests.Deferral;

/// <summary>The store contract on a real PostgreSQL, plus what several instances need: leases with fencing, schema set-up run by many at once.</summary>
public sealed class PostgreSqlDeferredWriteStoreTests : DeferredWriteStoreContractTests, IAsyncLifetime
{
    private PostgreSqlDeferredWriteStore? _store;
    private string _connectionString = "";

    protected override IDeferredWriteStore Store => _store!;

    public async ValueTask InitializeAsync()
    {
        var server = await PostgreSqlServer.RequireAsync();
        _connectionString = await server.CreateDatabaseAsync();
        _store = Open();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    [Fact]
    public void IsDurable_PostgreSql_True()
    {
        Assert.True(Store.IsDurable);
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_HeldByAnother_NullUntilGivenUpThenALargerToken()
    {
        await using var other = Open();
        var first = await _store!.TryAcquireLeaseAsync("crm", "instance-a", Ct);
        Assert.NotNull(first);

        Assert.Null(await other.TryAcquireLeaseAsync("crm", "instance-b", Ct));
        var elsewhere = await other.TryAcquireLeaseAsync("email", "instance-b", Ct); // leases are per integration
        Assert.NotNull(elsewhere);
        await elsewhere.DisposeAsync();

        await first.DisposeAsync();
        var second = await other.TryAcquireLeaseAsync("crm", "instance-b", Ct);

        Assert.NotNull(second);
        Assert.True(second.Token > first.Token);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task Lease_StalledHolderAfterTakeover_EveryChangeRefusedAndNothingChanged()
    {
        long complete = await Store.EnqueueAsync(Write(n: 1), Ct);
        long reschedule = await Store.EnqueueAsync(Write(n: 2), Ct);
        long deadLetter = await Store.EnqueueAsync(Write(n: 3), Ct);
        await using var stalledStore = Open(TimeSpan.FromSeconds(1));
        var stalled = await stalledStore.TryAcquireLeaseAsync("crm", "stalled", Ct);
        Assert.NotNull(stalled);

        // The holder stops renewing (a GC pause, a frozen VM); once its lease runs out on the database's clock, another takes over.
        IDeferredWriteLease? takeover = null;
        await Eventually.WaitUntilAsync(() => (takeover = _store!.TryAcquireLeaseAsync("crm", "successor", Ct).AsTask().GetAwaiter().GetResult()) is not null);

        await Assert.ThrowsAsync<DeferredWriteLeaseLostException>(() => stalled.CompleteAsync(complete, Ct).AsTask());
        await Assert.ThrowsAsync<DeferredWriteLeaseLostException>(() => stalled.RescheduleAsync(reschedule, 5, Now.AddHours(1), "late", Ct).AsTask());
        var lost = await Assert.ThrowsAsync<DeferredWriteLeaseLostException>(() => stalled.DeadLetterAsync(deadLetter, "late", Ct).AsTask());
        Assert.False(await stalled.RenewAsync(Ct));

        Assert.Equal(("crm", stalled.Token), (lost.Integration, lost.Token));
        var due = await Store.GetDueAsync("crm", Now, 10, Ct);
        Assert.Equal([complete, reschedule, deadLetter], due.Select(w => w.Id));
        Assert.All(due, w => Assert.Equal(0, w.Attempts));
        Assert.Empty(await Store.ListAsync("crm", DeferredWriteState.DeadLettered, 0, 10, Ct));

        // The successor's changes go through, and the stalled holder giving up does not end the successor's lease.
        await stalled.DisposeAsync();
        await takeover!.CompleteAsync(complete, Ct);
        Assert.True(await takeover.RenewAsync(Ct));
        await takeover.DisposeAsync();
    }

    [Fact]
    public async Task Lease_ExpiredButNotTakenOver_ChangeStillRefused()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);
        await using var shortLived = Open(TimeSpan.FromSeconds(1));
        var lease = await shortLived.TryAcquireLeaseAsync("crm", "slow", Ct);
        Assert.NotNull(lease);

        await Eventually.WaitUntilAsync(() => !IsLeaseLive("crm"));

        await Assert.ThrowsAsync<DeferredWriteLeaseLostException>(() => lease.CompleteAsync(id, Ct).AsTask());
        Assert.Single(await Store.GetDueAsync("crm", Now, 10, Ct));
    }

    [Fact]
    public async Task Lease_TakeoverWhileAChangeRuns_WaitsForTheChangeWhichGoesThrough()
    {
        long id = await Store.EnqueueAsync(Write(n: 1), Ct);

        // Another transaction holds the write's row, so the holder's completion stops half-way, its lease check already made.
        await using var blocker = new NpgsqlConnection(_connectionString);
        await blocker.OpenAsync(Ct);
        await using var transaction = await blocker.BeginTransactionAsync(Ct);
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM resilient_integrations.deferred_writes WHERE id = @id FOR UPDATE;", blocker, transaction))
        {
            lockRow.Parameters.AddWithValue("id", id);
            await lockRow.ExecuteNonQueryAsync(Ct);
        }

        // Long enough that the completion surely starts inside it, even on a loaded machine; the test waits it out once.
        await using var holderStore = Open(TimeSpan.FromSeconds(5));
        var holder = await holderStore.TryAcquireLeaseAsync("crm", "holder", Ct);
        Assert.NotNull(holder);

        var completing = holder.CompleteAsync(id, Ct).AsTask();
        await Eventually.WaitUntilAsync(() => completing.IsCompleted || WaitingOnLocks() >= 1);
        await Eventually.WaitUntilAsync(() => !IsLeaseLive("crm"));

        // The lease ran out meanwhile: a successor asks for it, and must wait until the running change is done.
        var takeover = _store!.TryAcquireLeaseAsync("crm", "successor", Ct).AsTask();
        await Eventually.WaitUntilAsync(() => takeover.IsCompleted || WaitingOnLocks() >= 2);
        Assert.False(takeover.IsCompleted, "the takeover did not wait for the change the holder had started");
        Assert.False(completing.IsCompleted);

        await transaction.CommitAsync(Ct);
        await completing; // not refused: its lease held when it started
        var successor = await takeover;

        Assert.NotNull(successor);
        Assert.True(successor.Token > holder.Token);
        Assert.Empty(await Store.GetDueAsync("crm", Now, 10, Ct));
        await successor.DisposeAsync();
    }

    private long WaitingOnLocks()
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock';", connection);
        return (long)command.ExecuteScalar()!;
    }

    [Fact]
    public async Task InitializeAsync_EightInstancesStartTogether_TablesCreatedOnce()
    {
        var stores = Enumerable.Range(0, 8).Select(_ => Open(schema: "starting_together")).ToList();
        try
        {
            await Task.WhenAll(stores.Select(s => s.InitializeAsync(Ct)));
            long id = await stores[3].EnqueueAsync(Write(n: 1), Ct);

            Assert.Equal([id], (await stores[6].GetDueAsync("crm", Now, 10, Ct)).Select(w => w.Id));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task InitializeAsync_CreateSchemaOffAndTablesMissing_SaysWhatToRun()
    {
        await using var store = Open(schema: "not_created", createSchema: false);

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(Ct));

        Assert.Contains("GetSchemaScript", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not_created", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetSchemaScript_RunByHandTwice_StoreWithCreateSchemaOffWorks()
    {
        await using (var connection = new NpgsqlConnection(_connectionString))
        {
            await connection.OpenAsync(Ct);
            for (int i = 0; i < 2; i++)
            {
                await using var command = new NpgsqlCommand(PostgreSqlDeferredWriteStore.GetSchemaScript("by_hand"), connection);
                await command.ExecuteNonQueryAsync(Ct);
            }
        }

        await using var store = Open(schema: "by_hand", createSchema: false);
        long id = await store.EnqueueAsync(Write(n: 1), Ct);

        Assert.Equal([id], (await store.GetDueAsync("crm", Now, 10, Ct)).Select(w => w.Id));
    }

    [Theory]
    [InlineData("bad-name")]
    [InlineData("1starts_with_digit")]
    [InlineData("x\"; DROP TABLE y; --")]
    public void Constructor_SchemaNotAnIdentifier_NamesTheOption(string schema)
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgreSqlDeferredWriteStore(new PostgreSqlDeferredWriteStoreOptions { ConnectionString = _connectionString, Schema = schema }, null));

        Assert.Contains("PostgreSqlDeferredWriteStoreOptions.Schema", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_ConnectionStringInvalid_NamesTheOptionNotThePassword()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgreSqlDeferredWriteStore(
            new PostgreSqlDeferredWriteStoreOptions { ConnectionString = "Host=127.0.0.1;Password=hunter2;Bogus Keyword=1" }, null));

        Assert.Contains("PostgreSqlDeferredWriteStoreOptions.ConnectionString", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueAsync_EightConcurrentWriters_EveryWriteStoredOnceInIdOrder()
    {
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            var ids = new List<long>();
            for (int i = 0; i < 100; i++)
            {
                ids.Add(await Store.EnqueueAsync(Write(n: (writer * 1000) + i), Ct));
            }

            return ids;
        })).ToList();
        var ids = (await Task.WhenAll(writers)).SelectMany(i => i).ToList();

        var stored = await Store.ListAsync("crm", DeferredWriteState.Queued, 0, 10_000, Ct);

        Assert.Equal(800, ids.Distinct().Count());
        Assert.Equal(ids.Order(), stored.Select(e => e.Id));
    }

    private bool IsLeaseLive(string integration)
    {
        using var connection = new NpgsqlConnection(_connectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT COUNT(*) FROM resilient_integrations.replay_leases WHERE integration = @i AND expires_at > clock_timestamp();", connection);
        command.Parameters.AddWithValue("i", integration);
        return (long)command.ExecuteScalar()! > 0;
    }

    private PostgreSqlDeferredWriteStore Open(TimeSpan? leaseDuration = null, string schema = "resilient_integrations", bool createSchema = true) => new(
        new PostgreSqlDeferredWriteStoreOptions
        {
            ConnectionString = _connectionString,
            Schema = schema,
            CreateSchema = createSchema,
            LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(30),
        },
        Clock);
}
