using Npgsql;

namespace Resilient.Integrations.PostgreSql;

/// <summary>Options of the <see cref="PostgreSqlDeferredWriteStore"/>.</summary>
public sealed class PostgreSqlDeferredWriteStoreOptions
{
    /// <summary>Gets or sets the connection string.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: the <see cref="NpgsqlDataSource"/> registered in DI (e.g. by
    /// <c>AddNpgsqlDataSource</c>) is used. One of the two is required.
    /// </value>
    public string? ConnectionString { get; set; }

    /// <summary>Gets or sets the schema that holds the store's tables (<c>deferred_writes</c>, <c>dead_letters</c>, <c>replay_leases</c>).</summary>
    /// <value>Defaults to <c>resilient_integrations</c>. Letters, digits and underscores, starting with a letter or underscore, at most 63.</value>
    public string Schema { get; set; } = "resilient_integrations";

    /// <summary>
    /// Gets or sets a value indicating whether the schema and tables are created at start-up when missing. Instances that
    /// start together take turns under a transaction-scoped advisory lock. Turn it off when the database user may not
    /// create tables, and run <see cref="PostgreSqlDeferredWriteStore.GetSchemaScript"/> by hand instead.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool CreateSchema { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a replay lease lasts without renewal, on the database's clock. The holder renews it every third
    /// of this; when the holder dies or stalls, another instance takes the queue over after it runs out.
    /// </summary>
    /// <value>Defaults to 30 seconds. Must be between 1 second and 1 hour.</value>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);
}
