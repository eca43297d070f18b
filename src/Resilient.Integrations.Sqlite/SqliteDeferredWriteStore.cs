using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Resilient.Integrations.Deferral;

namespace Resilient.Integrations.Sqlite;

/// <summary>
/// A durable <see cref="IDeferredWriteStore"/> on SQLite: WAL journal, <c>synchronous=FULL</c> (a write is on
/// disk before <see cref="EnqueueAsync"/> returns), one writer connection fed by a queue so concurrent
/// callers never meet <c>SQLITE_BUSY</c>, and group commit so they share one fsync.
/// </summary>
public sealed class SqliteDeferredWriteStore : IDeferredWriteStore, IAsyncDisposable, IDisposable
{
    private const string PathOption = "SqliteDeferredWriteStoreOptions.Path";

    private readonly string _connectionString;
    private readonly int _maxBatch;
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _writer;
    private readonly Task _writerLoop;
    private readonly TimeProvider _time;

    /// <summary>Opens (or creates) the store.</summary>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">Stamps dead letters. Defaults to <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">
    /// <see cref="SqliteDeferredWriteStoreOptions.Path"/> is missing, names a directory or lies under a regular file,
    /// or <see cref="SqliteDeferredWriteStoreOptions.MaxBatch"/> is out of range.
    /// </exception>
    /// <exception cref="UnauthorizedAccessException">The database file or its directory is not writable.</exception>
    /// <exception cref="IOException">The database cannot be created or opened for another reason (the message names the path).</exception>
    public SqliteDeferredWriteStore(SqliteDeferredWriteStoreOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = timeProvider ?? TimeProvider.System;
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new ArgumentException("SqliteDeferredWriteStoreOptions.Path is required.", nameof(options));
        }

        if (options.MaxBatch is < 1 or > 10_000)
        {
            throw new ArgumentException("SqliteDeferredWriteStoreOptions.MaxBatch must be between 1 and 10000.", nameof(options));
        }

        PrepareFile(options.Path, nameof(options));
        _maxBatch = options.MaxBatch;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = options.Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        _writer = OpenWriter(options.Path);
        _writerLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Checks the path before SQLite sees it (its own errors, "unable to open database file", name neither the
    /// option nor what is wrong) and creates the missing directories.
    /// </summary>
    private static void PrepareFile(string path, string parameter)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new ArgumentException($"{PathOption} '{path}' is a directory; it must name the database file, e.g. '{System.IO.Path.Combine(path, "deferred-writes.db")}'.", parameter);
        }

        var folder = System.IO.Path.GetDirectoryName(full);
        for (var ancestor = folder; !string.IsNullOrEmpty(ancestor) && !Directory.Exists(ancestor); ancestor = System.IO.Path.GetDirectoryName(ancestor))
        {
            if (File.Exists(ancestor))
            {
                throw new ArgumentException($"{PathOption} '{path}' lies under '{ancestor}', which is a file, not a directory.", parameter);
            }
        }

        try
        {
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);

                // SQLite writes its journal (-wal, -shm) next to the database: the directory must be writable too.
                var probe = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.probe");
                using (File.Create(probe, 1, FileOptions.DeleteOnClose))
                {
                }
            }

            if (File.Exists(full))
            {
                using (new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
                {
                }
            }
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new UnauthorizedAccessException($"{PathOption} '{path}' is not writable by this process: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new IOException($"{PathOption} '{path}' cannot be used as the deferred-write database: {ex.Message}", ex);
        }
    }

    private SqliteConnection OpenWriter(string path)
    {
        SqliteConnection? connection = null;
        try
        {
            connection = Open();
            CreateSchema(connection);
            return connection;
        }
        catch (SqliteException ex)
        {
            connection?.Dispose();
            throw new IOException($"{PathOption} '{path}' cannot be used as the deferred-write database: {ex.Message}", ex);
        }
    }

    private static void CreateSchema(SqliteConnection connection)
    {
        Execute(connection, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS writes (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                integration TEXT NOT NULL, handler TEXT, method TEXT, uri TEXT, headers TEXT NOT NULL, body BLOB NOT NULL,
                idempotency_key TEXT NOT NULL, attempts INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_failure TEXT);
            CREATE INDEX IF NOT EXISTS writes_due ON writes (integration, id);
            CREATE TABLE IF NOT EXISTS dead_letters (
                id INTEGER PRIMARY KEY, integration TEXT NOT NULL, handler TEXT, method TEXT, uri TEXT, headers TEXT NOT NULL, body BLOB NOT NULL,
                idempotency_key TEXT NOT NULL, attempts INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, last_failure TEXT, reason TEXT NOT NULL, dead_at INTEGER NOT NULL);
            """);

        // Added with the dead-letter API; a database from before gets the column in place.
        using var columns = connection.CreateCommand();
        columns.CommandText = "SELECT COUNT(*) FROM pragma_table_info('dead_letters') WHERE name = 'discarded_at';";
        if (Convert.ToInt64(columns.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            Execute(connection, "ALTER TABLE dead_letters ADD COLUMN discarded_at INTEGER;");
        }
    }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>.</value>
    public bool IsDurable => true;

    /// <inheritdoc/>
    public ValueTask<long> EnqueueAsync(DeferredWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        return Submit(connection =>
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO writes (integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure)
                VALUES ($integration, $handler, $method, $uri, $headers, $body, $key, $attempts, $enqueued, $next, $failure) RETURNING id;
                """;
            command.Parameters.AddWithValue("$integration", write.Integration);
            command.Parameters.AddWithValue("$handler", (object?)write.Handler ?? DBNull.Value);
            command.Parameters.AddWithValue("$method", (object?)write.Method ?? DBNull.Value);
            command.Parameters.AddWithValue("$uri", (object?)write.Uri?.OriginalString ?? DBNull.Value);
            command.Parameters.AddWithValue("$headers", JsonSerializer.Serialize(write.Headers.Select(h => new[] { h.Key, h.Value }).ToArray(), SqliteJson.Default.StringArrayArray));
            command.Parameters.AddWithValue("$body", write.Body.ToArray());
            command.Parameters.AddWithValue("$key", write.IdempotencyKey);
            command.Parameters.AddWithValue("$attempts", write.Attempts);
            command.Parameters.AddWithValue("$enqueued", write.EnqueuedAt.UtcTicks);
            command.Parameters.AddWithValue("$next", write.NextAttemptAt.UtcTicks);
            command.Parameters.AddWithValue("$failure", (object?)write.LastFailure ?? DBNull.Value);
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<DeferredWrite>> GetDueAsync(string integration, DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure
            FROM writes WHERE integration = $integration
            ORDER BY id LIMIT $max;
            """;
        command.Parameters.AddWithValue("$integration", integration);
        command.Parameters.AddWithValue("$max", max);
        var due = new List<DeferredWrite>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);

        // The oldest writes by the index, cut at the first not yet due (it holds back the ones after it): no scan of the rest.
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetInt64(10) <= now.UtcTicks)
        {
            due.Add(new DeferredWrite
            {
                Id = reader.GetInt64(0),
                Integration = reader.GetString(1),
                Handler = reader.IsDBNull(2) ? null : reader.GetString(2),
                Method = reader.IsDBNull(3) ? null : reader.GetString(3),
                Uri = reader.IsDBNull(4) ? null : new Uri(reader.GetString(4), UriKind.RelativeOrAbsolute),
                Headers = [.. (JsonSerializer.Deserialize(reader.GetString(5), SqliteJson.Default.StringArrayArray) ?? []).Select(h => new KeyValuePair<string, string>(h[0], h[1]))],
                Body = (byte[])reader.GetValue(6),
                IdempotencyKey = reader.GetString(7),
                Attempts = reader.GetInt32(8),
                EnqueuedAt = new DateTimeOffset(reader.GetInt64(9), TimeSpan.Zero),
                NextAttemptAt = new DateTimeOffset(reader.GetInt64(10), TimeSpan.Zero),
                LastFailure = reader.IsDBNull(11) ? null : reader.GetString(11),
            });
        }

        return due;
    }

    /// <inheritdoc/>
    public async ValueTask CompleteAsync(long id, CancellationToken cancellationToken) =>
        await Submit(connection => Execute(connection, "DELETE FROM writes WHERE id = $id;", ("$id", id)), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken) =>
        await Submit(
            connection => Execute(
                connection,
                "UPDATE writes SET attempts = $attempts, next_attempt_at = $next, last_failure = $failure WHERE id = $id;",
                ("$id", id), ("$attempts", attempts), ("$next", nextAttemptAt.UtcTicks), ("$failure", lastFailure)),
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken) =>
        await Submit(
            connection =>
            {
                Execute(
                    connection,
                    """
                    INSERT INTO dead_letters (id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, last_failure, reason, dead_at)
                    SELECT id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, last_failure, $reason, $now FROM writes WHERE id = $id;
                    """,
                    ("$id", id), ("$reason", reason), ("$now", _time.GetUtcNow().UtcTicks));
                return Execute(connection, "DELETE FROM writes WHERE id = $id;", ("$id", id));
            },
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<DeferredQueueStats> GetStatsAsync(string integration, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT COUNT(*) FROM writes WHERE integration = $i), (SELECT MIN(enqueued_at) FROM writes WHERE integration = $i),
                   (SELECT COUNT(*) FROM dead_letters WHERE integration = $i AND discarded_at IS NULL),
                   (SELECT MIN(dead_at) FROM dead_letters WHERE integration = $i AND discarded_at IS NULL);
            """;
        command.Parameters.AddWithValue("$i", integration);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new DeferredQueueStats(
            reader.GetInt32(0),
            reader.IsDBNull(1) ? null : new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero),
            reader.GetInt32(2))
        {
            OldestDeadLetteredAt = reader.IsDBNull(3) ? null : new DateTimeOffset(reader.GetInt64(3), TimeSpan.Zero),
        };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<DeferredWriteEntry>> ListAsync(string integration, DeferredWriteState state, long afterId, int max, CancellationToken cancellationToken)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = state == DeferredWriteState.Queued
            ? """
              SELECT id, handler, method, uri, idempotency_key, attempts, enqueued_at, last_failure, NULL, NULL, NULL
              FROM writes WHERE integration = $i AND id > $after ORDER BY id LIMIT $max;
              """
            : $"""
              SELECT id, handler, method, uri, idempotency_key, attempts, enqueued_at, last_failure, dead_at, reason, discarded_at
              FROM dead_letters WHERE integration = $i AND id > $after AND discarded_at IS {(state == DeferredWriteState.Discarded ? "NOT NULL" : "NULL")}
              ORDER BY id LIMIT $max;
              """;
        command.Parameters.AddWithValue("$i", integration);
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$max", max);
        var entries = new List<DeferredWriteEntry>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new DeferredWriteEntry
            {
                Id = reader.GetInt64(0),
                Integration = integration,
                State = state,
                Handler = reader.IsDBNull(1) ? null : reader.GetString(1),
                Method = reader.IsDBNull(2) ? null : reader.GetString(2),
                Address = reader.IsDBNull(3) ? null : reader.GetString(3),
                IdempotencyKey = reader.GetString(4),
                Attempts = reader.GetInt32(5),
                EnqueuedAt = new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero),
                LastFailure = reader.IsDBNull(7) ? null : reader.GetString(7),
                DeadLetteredAt = reader.IsDBNull(8) ? null : new DateTimeOffset(reader.GetInt64(8), TimeSpan.Zero),
                Reason = reader.IsDBNull(9) ? null : reader.GetString(9),
                DiscardedAt = reader.IsDBNull(10) ? null : new DateTimeOffset(reader.GetInt64(10), TimeSpan.Zero),
            });
        }

        return entries;
    }

    /// <inheritdoc/>
    public async ValueTask<long?> RequeueAsync(string integration, long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        await Submit(
            connection =>
            {
                using var command = connection.CreateCommand();
                command.CommandText = """
                    INSERT INTO writes (integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure)
                    SELECT integration, handler, method, uri, headers, body, idempotency_key, 0, enqueued_at, $now, last_failure
                    FROM dead_letters WHERE id = $id AND integration = $i AND discarded_at IS NULL RETURNING id;
                    """;
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$i", integration);
                command.Parameters.AddWithValue("$now", now.UtcTicks);
                if (command.ExecuteScalar() is not { } newId)
                {
                    return (long?)null;
                }

                Execute(connection, "DELETE FROM dead_letters WHERE id = $id;", ("$id", id));
                return Convert.ToInt64(newId, CultureInfo.InvariantCulture);
            },
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<bool> DiscardAsync(string integration, long id, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        await Submit(
            connection => Execute(
                connection,
                "UPDATE dead_letters SET discarded_at = $now, reason = $reason, body = X'', headers = '[]' WHERE id = $id AND integration = $i AND discarded_at IS NULL;",
                ("$id", id), ("$i", integration), ("$now", now.UtcTicks), ("$reason", reason)) == 1,
            cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        _operations.Writer.TryComplete();
        await _writerLoop.ConfigureAwait(false);
        await _writer.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Completes the writes already handed over, then closes the database.</summary>
    public void Dispose()
    {
        _operations.Writer.TryComplete();
        _writerLoop.GetAwaiter().GetResult();
        _writer.Dispose();
    }

    private static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command.ExecuteNonQuery();
    }

    internal SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();

        // Per connection: FULL makes every commit durable; the busy timeout covers readers meeting a checkpoint.
        Execute(connection, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;");
        return connection;
    }

    private async ValueTask<T> Submit<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new Operation<T>(work);
        if (!_operations.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteDeferredWriteStore));
        }

        // The token counts only until the writer takes the operation: once it may be on disk, the caller must
        // learn the outcome, or it would retry a write that is already queued.
        using (cancellationToken.Register(static o => ((Operation)o!).CancelIfNotStarted(), operation))
        {
            return await operation.Completion.Task.ConfigureAwait(false);
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<Operation>(_maxBatch);
        while (await _operations.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && _operations.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            batch.RemoveAll(o => !o.TryStart());
            if (batch.Count == 0)
            {
                continue;
            }

            // Group commit: everything that arrived together shares one transaction, hence one fsync.
            try
            {
                RunInTransaction(batch);
                batch.ForEach(o => o.Succeed());
            }
#pragma warning disable CA1031 // The loop must outlive any failure, or every later caller would wait forever.
            catch (Exception)
            {
                // One bad operation must not fail its neighbours: redo each in a transaction of its own.
                foreach (var operation in batch)
                {
                    try
                    {
                        RunInTransaction([operation]);
                        operation.Succeed();
                    }
                    catch (Exception ex)
                    {
                        operation.Fail(ex);
                    }
                }
            }
#pragma warning restore CA1031
        }
    }

    private void RunInTransaction(List<Operation> operations)
    {
        using var transaction = _writer.BeginTransaction();
        try
        {
            foreach (var operation in operations)
            {
                operation.Run(_writer);
            }

            transaction.Commit();
        }
        catch
        {
            try
            {
                transaction.Rollback();
            }
            catch (SqliteException)
            {
                // Already rolled back by SQLite itself.
            }

            throw;
        }
    }

    private abstract class Operation
    {
        private int _state; // 0 waiting, 1 started, 2 cancelled

        public bool TryStart() => Interlocked.CompareExchange(ref _state, 1, 0) == 0;

        public void CancelIfNotStarted()
        {
            if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
            {
                Cancel();
            }
        }

        protected abstract void Cancel();

        public abstract void Run(SqliteConnection connection);

        public abstract void Succeed();

        public abstract void Fail(Exception exception);
    }

    private sealed class Operation<T>(Func<SqliteConnection, T> work) : Operation
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(SqliteConnection connection) => _result = work(connection);

        public override void Succeed() => Completion.TrySetResult(_result!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);

        protected override void Cancel() => Completion.TrySetCanceled();
    }
}
