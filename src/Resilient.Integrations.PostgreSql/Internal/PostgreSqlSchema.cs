using System.Text.RegularExpressions;

namespace Resilient.Integrations.PostgreSql.Internal;

/// <summary>The store's tables, created idempotently, and the statements that name them.</summary>
internal static partial class PostgreSqlSchema
{
    public const string SchemaOption = "PostgreSqlDeferredWriteStoreOptions.Schema";

    public static string Quote(string schema) => "\"" + schema + "\"";

    public static bool IsValidName(string? schema) => schema is not null && Identifier().IsMatch(schema);

    /// <summary>
    /// Every statement is IF NOT EXISTS, so it can run again and by hand; start-up runs it under an advisory lock
    /// because concurrent CREATE ... IF NOT EXISTS can still collide on the catalog.
    /// </summary>
    public static string Script(string schema)
    {
        string s = Quote(schema);
        return $"""
            CREATE SCHEMA IF NOT EXISTS {s};
            CREATE TABLE IF NOT EXISTS {s}.deferred_writes (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                integration text NOT NULL,
                handler text,
                method text,
                uri text,
                headers text NOT NULL,
                body bytea NOT NULL,
                idempotency_key text NOT NULL,
                attempts integer NOT NULL,
                enqueued_at timestamptz NOT NULL,
                next_attempt_at timestamptz NOT NULL,
                last_failure text);
            CREATE INDEX IF NOT EXISTS deferred_writes_integration_id ON {s}.deferred_writes (integration, id);
            CREATE TABLE IF NOT EXISTS {s}.dead_letters (
                id bigint PRIMARY KEY,
                integration text NOT NULL,
                handler text,
                method text,
                uri text,
                headers text NOT NULL,
                body bytea NOT NULL,
                idempotency_key text NOT NULL,
                attempts integer NOT NULL,
                enqueued_at timestamptz NOT NULL,
                last_failure text,
                reason text NOT NULL,
                dead_at timestamptz NOT NULL,
                discarded_at timestamptz);
            CREATE INDEX IF NOT EXISTS dead_letters_integration_id ON {s}.dead_letters (integration, id);
            CREATE TABLE IF NOT EXISTS {s}.replay_leases (
                integration text PRIMARY KEY,
                holder text NOT NULL,
                token bigint NOT NULL,
                expires_at timestamptz NOT NULL);
            """;
    }

    /// <summary>A stable advisory-lock key per schema (FNV-1a), so instances of one app agree on it.</summary>
    public static long LockKey(string schema)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in "Resilient.Integrations.PostgreSql:" + schema)
        {
            hash = (hash ^ c) * 1099511628211;
        }

        return unchecked((long)hash);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex Identifier();
}
