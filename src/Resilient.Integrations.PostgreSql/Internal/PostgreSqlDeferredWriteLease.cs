using Npgsql;
using Resilient.Integrations.Deferral;

namespace Resilient.Integrations.PostgreSql.Internal;

/// <summary>
/// A replay lease on PostgreSQL: a row per integration whose token grows with each grant and whose expiry is on the
/// database's clock. Each change locks that row (FOR SHARE) and runs only while it still carries this token and has not
/// expired, in the same statement, so a takeover either waits for the change or the change sees the new token and is refused.
/// </summary>
internal sealed class PostgreSqlDeferredWriteLease(PostgreSqlDeferredWriteStore store, string integration, long token, TimeSpan duration) : IDeferredWriteLease
{
    public string Integration => integration;

    public long Token => token;

    public TimeSpan Duration => duration;

    private string Held => $"""
        held AS (SELECT 1 FROM {store.Tables}.replay_leases
                 WHERE integration = @integration AND token = @token AND expires_at > clock_timestamp() FOR SHARE)
        """;

    public async ValueTask<bool> RenewAsync(CancellationToken cancellationToken)
    {
        using var command = store.Command(
            $"UPDATE {store.Tables}.replay_leases SET expires_at = clock_timestamp() + @duration " +
            "WHERE integration = @integration AND token = @token AND expires_at > clock_timestamp();");
        Bind(command).Parameters.AddWithValue("duration", duration);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public ValueTask CompleteAsync(long id, CancellationToken cancellationToken) => FencedAsync(
        $"""
        WITH {Held},
        gone AS (DELETE FROM {store.Tables}.deferred_writes WHERE id = @id AND EXISTS (SELECT 1 FROM held))
        SELECT EXISTS (SELECT 1 FROM held);
        """,
        command => command.Parameters.AddWithValue("id", id),
        cancellationToken);

    public ValueTask RescheduleAsync(long id, int attempts, DateTimeOffset nextAttemptAt, string? lastFailure, CancellationToken cancellationToken) => FencedAsync(
        $"""
        WITH {Held},
        moved AS (UPDATE {store.Tables}.deferred_writes SET attempts = @attempts, next_attempt_at = @next, last_failure = @failure
                  WHERE id = @id AND EXISTS (SELECT 1 FROM held))
        SELECT EXISTS (SELECT 1 FROM held);
        """,
        command =>
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("attempts", attempts);
            command.Parameters.AddWithValue("next", nextAttemptAt.ToUniversalTime());
            command.Parameters.AddWithValue("failure", (object?)lastFailure ?? DBNull.Value);
        },
        cancellationToken);

    public ValueTask DeadLetterAsync(long id, string reason, CancellationToken cancellationToken) => FencedAsync(
        $"""
        WITH {Held},
        {PostgreSqlDeferredWriteStore.DeadLetterMove(store.Tables, "EXISTS (SELECT 1 FROM held)")}
        SELECT EXISTS (SELECT 1 FROM held);
        """,
        command =>
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("reason", reason);
            command.Parameters.AddWithValue("now", store.Now());
        },
        cancellationToken);

    /// <summary>Gives the lease up, so another instance need not wait for it to run out.</summary>
    public async ValueTask DisposeAsync()
    {
        using var command = store.Command(
            $"UPDATE {store.Tables}.replay_leases SET expires_at = clock_timestamp() WHERE integration = @integration AND token = @token;");
        await Bind(command).ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask FencedAsync(string sql, Action<NpgsqlCommand> bind, CancellationToken cancellationToken)
    {
        using var command = store.Command(sql);
        bind(Bind(command));

        // Once sent, a change is seen through: cancelling it would leave the caller unsure whether it happened.
        if (await command.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false) is not true)
        {
            throw new DeferredWriteLeaseLostException(integration, token);
        }
    }

    private NpgsqlCommand Bind(NpgsqlCommand command)
    {
        command.Parameters.AddWithValue("integration", integration);
        command.Parameters.AddWithValue("token", token);
        return command;
    }
}
