namespace Resilient.Integrations.Sqlite;

/// <summary>Options of the <see cref="SqliteDeferredWriteStore"/>.</summary>
public sealed class SqliteDeferredWriteStoreOptions
{
    /// <summary>Gets or sets the database file; created with its folder when missing.</summary>
    /// <value>
    /// Required. Must name a file (not a directory), not lie under a regular file, and be writable, in a writable
    /// directory (SQLite keeps its journal next to it); the store fails when it is opened, at start-up, naming the path.
    /// </value>
    public string? Path { get; set; }

    /// <summary>Gets or sets how many writes one transaction commits at most when callers enqueue at once (group commit).</summary>
    /// <value>Defaults to 256. Must be between 1 and 10,000.</value>
    public int MaxBatch { get; set; } = 256;
}
