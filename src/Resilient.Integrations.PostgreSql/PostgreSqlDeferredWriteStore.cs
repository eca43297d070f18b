using System.Text.Json;
using Npgsql;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql.Internal;

namespace Resilient.Integrations.PostgreSql;

/// <summary>
/// A durable <see cref="IDeferredWriteStore"/> on PostgreSQL, shared by every instance of an app: a write is committed
/// before <see cref="EnqueueAsync"/> returns, one instance at a time replays an integration's queue under a lease with
/// a fencing token on the database's clock, and dead letters stay in the database for operators.
/// </summary>
public sealed class PostgreSqlDeferredWriteStore : IDeferredWriteStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PostgreSqlDeferredWriteStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;

    /// <summary>Creates a store on a connection string.</summary>
    /// <param name="options">The options; <see cref="PostgreSqlDeferredWriteStoreOptions.ConnectionString"/> is required here.</param>
    /// <param name="timeProvider">Stamps dead letters and discards; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is missing or invalid; the message names it.</exception>
    public PostgreSqlDeferredWriteStore(PostgreSqlDeferredWriteStoreOptions options, TimeProvider? timeProvider)
        : this(options, CreateDataSource(options), ownsDataSource: true, timeProvider)
    {
    }

    /// <summary>Creates a store on a data source the caller owns (e.g. one from <c>AddNpgsqlDataSource</c>).</summary>
    /// <param name="options">The options; <see cref="PostgreSqlDeferredWriteStoreOptions.ConnectionString"/> is ignored.</param>
    /// <param name="dataSource">The data source.</param>
    /// <param name="timeProvider">Stamps dead letters and discards; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentException">An option is invalid; the message names it.</exception>
    public PostgreSqlDeferredWriteStore(PostgreSqlDeferredWriteStoreOptions options, NpgsqlDataSource dataSource, TimeProvider? timeProvider)
        : this(options, dataSource, ownsDataSource: false, timeProvider)
    {
    }

    private PostgreSqlDeferredWriteStore(PostgreSqlDeferredWriteStoreOptions options, NpgsqlDataSource dataSource, bool ownsDataSource, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataSource);
        Validate(options);
        _options = options;
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        _time = timeProvider ?? TimeProvider.System;
        Tables = PostgreSqlSchema.Quote(options.Schema);
    }

    /// <inheritdoc/>
    /// <value>Always <see langword="true"/>.</value>
    public bool IsDurable => true;

    /// <summary>Gets the quoted schema, for statements.</summary>
    internal string Tables { get; }

    /// <summary>
    /// Gets the script that creates the store's schema and tables. Every statement is <c>IF NOT EXISTS</c>: it can be run by
    /// hand (with <see cref="PostgreSqlDeferredWriteStoreOptions.CreateSchema"/> off) and again without harm.
    /// </summary>
    /// <param name="schema">The schema name, as <see cref="PostgreSqlDeferredWriteStoreOptions.Schema"/>.</param>
    /// <returns>The SQL script.</returns>
    /// <exception cref="ArgumentException">The schema name is not a plain identifier.</exception>
    public static string GetSchemaScript(string schema = "resilient_integrations")
    {
        if (!PostgreSqlSchema.IsValidName(schema))
        {
            throw new ArgumentException($"{PostgreSqlSchema.SchemaOption} '{schema}' must be letters, digits and underscores, start with a letter or underscore, and be at most 63 long.", nameof(schema));
        }

        return PostgreSqlSchema.Script(schema);
    }

    /// <summary>
    /// Creates the schema and tables when <see cref="PostgreSqlDeferredWriteStoreOptions.CreateSchema"/> is on (instances
    /// take turns under an advisory lock), or checks that they exist. Runs at start-up; every operation runs it first if it has not succeeded.
    /// </summary>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A task that completes when the tables are there.</returns>
    /// <exception cref="InvalidOperationException">The tables are missing and <see cref="PostgreSqlDeferredWriteStoreOptions.CreateSchema"/> is off.</exception>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_schemaReady)
            {
                await (_options.CreateSchema ? CreateSchemaAsync(cancellationToken) : CheckSchemaAsync(cancellationToken)).ConfigureAwait(false);
                _schemaReady = true;
            }
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask<long> EnqueueAsync(DeferredWrite write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var command = new NpgsqlCommand(
            $"""
            INSERT INTO {Tables}.deferred_writes (integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure)
            VALUES (@integration, @handler, @method, @uri, @headers, @body, @key, @attempts, @enqueued, @next, @failure) RETURNING id;
            """,
            connection);
        command.Parameters.AddWithValue("integration", write.Integration);
        command.Parameters.AddWithValue("handler", (object?)write.Handler ?? DBNull.Value);
        command.Parameters.AddWithValue("method", (object?)write.Method ?? DBNull.Value);
        command.Parameters.AddWithValue("uri", (object?)write.Uri?.OriginalString ?? DBNull.Value);
        command.Parameters.AddWithValue("headers", JsonSerializer.Serialize(write.Headers.Select(h => new[] { h.Key, h.Value }).ToArray(), PostgreSqlJson.Default.StringArrayArray));
        command.Parameters.AddWithValue("body", write.Body.ToArray());
        command.Parameters.AddWithValue("key", write.IdempotencyKey);
        command.Parameters.AddWithValue("attempts", write.Attempts);
        command.Parameters.AddWithValue("enqueued", write.EnqueuedAt.ToUniversalTime());
        command.Parameters.AddWithValue("next", write.NextAttemptAt.ToUniversalTime());
        command.Parameters.AddWithValue("failure", (object?)write.LastFailure ?? DBNull.Value);

        // The caller's token counts until the insert is sent: after that it may be committed, and the caller must learn its id
        // rather than queue the write a second time.
        return (long)(await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false))!;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<DeferredWrite>> GetDueAsync(string integration, DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(
            $"""
            SELECT id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure
            FROM {Tables}.deferred_writes WHERE integration = @integration
            ORDER BY id LIMIT @max;
            """);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("max", max);
        var due = new List<DeferredWrite>();
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        // The oldest writes by the index, cut at the first not yet due (it holds back the ones after it): no scan of the rest.
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && reader.GetFieldValue<DateTimeOffset>(10) <= now)
        {
            due.Add(new DeferredWrite
            {
                Id = reader.GetInt64(0),
                Integration = reader.GetString(1),
                Handler = reader.IsDBNull(2) ? null : reader.GetString(2),
                Method = reader.IsDBNull(3) ? null : reader.GetString(3),
                Uri = reader.IsDBNull(4) ? null : new Uri(reader.GetString(4), UriKind.RelativeOrAbsolute),
                Headers = [.. (JsonSerializer.Deserialize(reader.GetString(5), PostgreSqlJson.Default.StringArrayArray) ?? []).Select(h => new KeyValuePair<string, string>(h[0], h[1]))],
                Body = reader.GetFieldValue<byte[]>(6),
                IdempotencyKey = reader.GetString(7),
                Attempts = reader.GetInt32(8),
                EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(9),
                NextAttemptAt = reader.GetFieldValue<DateTimeOffset>(10),
                LastFailure = reader.IsDBNull(11) ? null : reader.GetString(11),
            });
        }

        return due;
    }

    /// <inheritdoc/>
    /// <remarks>Not fenced: replay changes the queue through its <see cref="IDeferredWriteLease"/>.</remarks>
    public async ValueTask CompleteAsync(long id, CancellationToken cancellationToken) =>
        await ExecuteAsync($"DELETE FROM {Tables}.deferred_writes WHERE id = @id;", cancellationToken, ("id", id)).ConfigureAwait(false);

    /// <inheritdoc/>
    /// <remarks>Not fenced: replay changes the queue through its <see cref="IDeferredWriteLease"/>.</remarks>
    public async ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            $"UPDATE {Tables}.deferred_writes SET attempts = @attempts, next_attempt_at = @next, last_failure = @failure WHERE id = @id;",
            cancellationToken,
            ("id", id),
            ("attempts", attempts),
            ("next", nextAttemptAt.ToUniversalTime()),
            ("failure", lastFailure)).ConfigureAwait(false);

    /// <inheritdoc/>
    /// <remarks>Not fenced: replay changes the queue through its <see cref="IDeferredWriteLease"/>.</remarks>
    public async ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken) =>
        await ExecuteAsync($"WITH {DeadLetterMove(Tables, "TRUE")} SELECT 1;", cancellationToken, ("id", id), ("reason", reason), ("now", Now())).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<DeferredQueueStats> GetStatsAsync(string integration, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(
            $"""
            SELECT (SELECT COUNT(*) FROM {Tables}.deferred_writes WHERE integration = @integration),
                   (SELECT MIN(enqueued_at) FROM {Tables}.deferred_writes WHERE integration = @integration),
                   (SELECT COUNT(*) FROM {Tables}.dead_letters WHERE integration = @integration AND discarded_at IS NULL),
                   (SELECT MIN(dead_at) FROM {Tables}.dead_letters WHERE integration = @integration AND discarded_at IS NULL);
            """);
        command.Parameters.AddWithValue("integration", integration);
        using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new DeferredQueueStats(
            (int)reader.GetInt64(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            (int)reader.GetInt64(2))
        {
            OldestDeadLetteredAt = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
        };
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<DeferredWriteEntry>> ListAsync(string integration, DeferredWriteState state, long afterId, int max, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(state == DeferredWriteState.Queued
            ? $"""
              SELECT id, handler, method, uri, idempotency_key, attempts, enqueued_at, last_failure, NULL::timestamptz, NULL::text, NULL::timestamptz
              FROM {Tables}.deferred_writes WHERE integration = @integration AND id > @after ORDER BY id LIMIT @max;
              """
            : $"""
              SELECT id, handler, method, uri, idempotency_key, attempts, enqueued_at, last_failure, dead_at, reason, discarded_at
              FROM {Tables}.dead_letters WHERE integration = @integration AND id > @after
                AND discarded_at IS {(state == DeferredWriteState.Discarded ? "NOT NULL" : "NULL")}
              ORDER BY id LIMIT @max;
              """);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("max", max);
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
                EnqueuedAt = reader.GetFieldValue<DateTimeOffset>(6),
                LastFailure = reader.IsDBNull(7) ? null : reader.GetString(7),
                DeadLetteredAt = reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
                Reason = reader.IsDBNull(9) ? null : reader.GetString(9),
                DiscardedAt = reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
            });
        }

        return entries;
    }

    /// <inheritdoc/>
    public async ValueTask<long?> RequeueAsync(string integration, long id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(
            $"""
            WITH back AS (DELETE FROM {Tables}.dead_letters WHERE id = @id AND integration = @integration AND discarded_at IS NULL RETURNING *)
            INSERT INTO {Tables}.deferred_writes (integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, next_attempt_at, last_failure)
            SELECT integration, handler, method, uri, headers, body, idempotency_key, 0, enqueued_at, @now, last_failure FROM back
            RETURNING id;
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("now", now.ToUniversalTime());
        return await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is long newId ? newId : null;
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DiscardAsync(string integration, long id, string reason, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(
            $"""
            UPDATE {Tables}.dead_letters SET discarded_at = @now, reason = @reason, body = ''::bytea, headers = '[]'
            WHERE id = @id AND integration = @integration AND discarded_at IS NULL;
            """,
            cancellationToken,
            ("id", id),
            ("integration", integration),
            ("now", now.ToUniversalTime()),
            ("reason", reason)).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One holder per integration across every instance: granted when nobody holds it or the last grant ran out on the
    /// database's clock, each grant with a larger token. The replayer renews it while it replays.
    /// </remarks>
    public async ValueTask<IDeferredWriteLease?> TryAcquireLeaseAsync(string integration, string holder, CancellationToken cancellationToken)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(
            $"""
            INSERT INTO {Tables}.replay_leases AS lease (integration, holder, token, expires_at)
            VALUES (@integration, @holder, 1, clock_timestamp() + @duration)
            ON CONFLICT (integration) DO UPDATE SET holder = excluded.holder, token = lease.token + 1, expires_at = excluded.expires_at
            WHERE lease.expires_at <= clock_timestamp() OR lease.holder = excluded.holder
            RETURNING token;
            """);
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("holder", holder);
        command.Parameters.AddWithValue("duration", _options.LeaseDuration);
        // Once sent, seen through: a grant this replayer never learnt of would hold every other instance off until it ran out.
        return await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is long token
            ? new PostgreSqlDeferredWriteLease(this, integration, token, _options.LeaseDuration)
            : null;
    }

    /// <summary>Closes the data source when the store created it.</summary>
    /// <returns>A task that completes when it is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        _schemaGate.Dispose();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The CTEs that move a write to the dead letters when <paramref name="condition"/> holds.</summary>
    internal static string DeadLetterMove(string tables, string condition) => $"""
        moved AS (DELETE FROM {tables}.deferred_writes WHERE id = @id AND {condition} RETURNING *),
        dead AS (INSERT INTO {tables}.dead_letters (id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, last_failure, reason, dead_at)
                 SELECT id, integration, handler, method, uri, headers, body, idempotency_key, attempts, enqueued_at, last_failure, @reason, @now FROM moved)
        """;

    internal DateTimeOffset Now() => _time.GetUtcNow().ToUniversalTime();

    internal NpgsqlCommand Command(string sql) => _dataSource.CreateCommand(sql);

    private static void Validate(PostgreSqlDeferredWriteStoreOptions options)
    {
        if (!PostgreSqlSchema.IsValidName(options.Schema))
        {
            throw new ArgumentException($"{PostgreSqlSchema.SchemaOption} '{options.Schema}' must be letters, digits and underscores, start with a letter or underscore, and be at most 63 long.", nameof(options));
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1) || options.LeaseDuration > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"PostgreSqlDeferredWriteStoreOptions.LeaseDuration ({options.LeaseDuration}) must be between 1 second and 1 hour.", nameof(options));
        }
    }

    private static NpgsqlDataSource CreateDataSource(PostgreSqlDeferredWriteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("PostgreSqlDeferredWriteStoreOptions.ConnectionString is required (or register an NpgsqlDataSource in DI).", nameof(options));
        }

        try
        {
            return NpgsqlDataSource.Create(options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            // Npgsql's own message names the bad keyword; never echo the string itself, it may hold a password.
            throw new ArgumentException($"PostgreSqlDeferredWriteStoreOptions.ConnectionString is not a valid connection string: {ex.Message}", nameof(options), ex);
        }
    }

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        using (var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key);", connection, transaction))
        {
            command.Parameters.AddWithValue("key", PostgreSqlSchema.LockKey(_options.Schema));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var command = new NpgsqlCommand(PostgreSqlSchema.Script(_options.Schema), connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task CheckSchemaAsync(CancellationToken cancellationToken)
    {
        using var command = Command("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = @schema AND table_name IN ('deferred_writes', 'dead_letters', 'replay_leases');");
        command.Parameters.AddWithValue("schema", _options.Schema);
        if ((long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! != 3)
        {
            throw new InvalidOperationException(
                $"The deferred-write tables are missing from schema '{_options.Schema}' and PostgreSqlDeferredWriteStoreOptions.CreateSchema is off: " +
                "run PostgreSqlDeferredWriteStore.GetSchemaScript() against the database, or turn CreateSchema on.");
        }
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        // Once sent, a change is seen through: cancelling it would leave the caller unsure whether it happened.
        return await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
