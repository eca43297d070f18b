using Microsoft.Extensions.Hosting;

namespace Resilient.Integrations.PostgreSql.Internal;

/// <summary>Creates or checks the tables when the host starts, so a wrong connection string or schema fails the start, not the first queued write.</summary>
internal sealed class PostgreSqlSchemaInitializer(PostgreSqlDeferredWriteStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
