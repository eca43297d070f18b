using BenchmarkDotNet.Attributes;
using Microsoft.Data.Sqlite;
using Npgsql;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql;
using Resilient.Integrations.Sqlite;

namespace Resilient.Integrations.Benchmarks;

/// <summary>
/// Durable store-and-forward throughput, SQLite (WAL, synchronous=FULL) beside PostgreSQL (a commit per enqueue,
/// fsync on): every acknowledged write is on disk. Target: at least 2,000 durable enqueues per second with 8 writers.
/// PostgreSQL runs against the server in <c>RESILIENT_POSTGRES</c> (a connection string), in a schema of its own.
/// </summary>
[MemoryDiagnoser]
public class DeferralBenchmarks
{
    private const int Batch = 2_000;
    private IDeferredWriteStore _store = null!;
    private string _folder = null!;
    private string _schema = null!;

    /// <summary>Gets or sets the store under test.</summary>
    [Params("SQLite", "PostgreSQL")]
    public string Store { get; set; } = "SQLite";

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), "ri-bench-" + Guid.NewGuid().ToString("N"));
        _schema = "bench_" + Guid.NewGuid().ToString("N");
        _store = Store == "SQLite"
            ? new SqliteDeferredWriteStore(new SqliteDeferredWriteStoreOptions { Path = Path.Combine(_folder, "q.db") })
            : new PostgreSqlDeferredWriteStore(new PostgreSqlDeferredWriteStoreOptions { ConnectionString = PostgresConnectionString, Schema = _schema }, null);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_store is SqliteDeferredWriteStore sqlite)
        {
            await sqlite.DisposeAsync();
            SqliteConnection.ClearAllPools();
            Directory.Delete(_folder, recursive: true);
            return;
        }

        await ((PostgreSqlDeferredWriteStore)_store).DisposeAsync();
        await using var connection = new NpgsqlConnection(PostgresConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP SCHEMA \"{_schema}\" CASCADE;", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static string PostgresConnectionString => Environment.GetEnvironmentVariable("RESILIENT_POSTGRES")
        ?? throw new InvalidOperationException("Set RESILIENT_POSTGRES to a PostgreSQL connection string (e.g. Host=127.0.0.1;Port=55432;Username=postgres) to benchmark the PostgreSQL store.");

    /// <summary>One caller at a time: each enqueue waits for its own fsync.</summary>
    [Benchmark(OperationsPerInvoke = 200)]
    public async Task Enqueue_OneWriter()
    {
        for (int i = 0; i < 200; i++)
        {
            await _store.EnqueueAsync(Write(i), CancellationToken.None);
        }
    }

    /// <summary>Eight concurrent callers (a web app under load): group commit shares the fsyncs.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Enqueue_EightWriters()
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < Batch / 8; i++)
            {
                await _store.EnqueueAsync(Write(i), CancellationToken.None);
            }
        })));
    }

    /// <summary>The store's share of replay: read due writes in order and remove each after delivery.</summary>
    [Benchmark(OperationsPerInvoke = 500)]
    public async Task Replay_ReadAndComplete()
    {
        for (int i = 0; i < 500; i++)
        {
            await _store.EnqueueAsync(Write(i), CancellationToken.None);
        }

        int done = 0;
        while (done < 500)
        {
            var due = await _store.GetDueAsync("bench", DateTimeOffset.MaxValue, 64, CancellationToken.None);
            await Task.WhenAll(due.Select(w => _store.CompleteAsync(w.Id, CancellationToken.None).AsTask()));
            done += due.Count;
        }
    }

    private static DeferredWrite Write(int i) => new()
    {
        Integration = "bench",
        Method = "POST",
        Uri = new Uri("/contacts", UriKind.Relative),
        Headers = [new("Content-Type", "application/json")],
        Body = """{"name":"Ada Lovelace","email":"ada@example.com","note":"weekly sync"}"""u8.ToArray(),
        IdempotencyKey = "k-" + i,
        EnqueuedAt = DateTimeOffset.UnixEpoch,
        NextAttemptAt = DateTimeOffset.UnixEpoch,
    };
}
