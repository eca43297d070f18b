using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Resilient.Integrations.PostgreSql.Internal;

/// <summary>
/// Creates or checks the tables when the host starts, so a wrong schema, user or database fails the start, not the first
/// queued write. A database that cannot be reached does not: an instance restarted during an outage must still serve its
/// reads, and the store creates its tables on first use.
/// </summary>
internal sealed partial class PostgreSqlSchemaInitializer(PostgreSqlDeferredWriteStore store, ILogger<PostgreSqlSchemaInitializer>? logger = null) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException { SqlState: var state } || !IsConfigurationError(state))
        {
            Unreachable(logger ?? NullLogger<PostgreSqlSchemaInitializer>.Instance, ex.GetType().Name, ex.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Class 28: invalid authorization; 3D000: no such database; 42501: no privilege to create the schema or tables.
    private static bool IsConfigurationError(string state) => state.StartsWith("28", StringComparison.Ordinal) || state is "3D000" or "42501";

    [LoggerMessage(1, LogLevel.Warning, "The deferred-write database cannot be reached at start-up ({ExceptionType}: {ExceptionMessage}); its tables are created on first use, and writes cannot be queued until it is back")]
    private static partial void Unreachable(ILogger logger, string exceptionType, string exceptionMessage);
}
