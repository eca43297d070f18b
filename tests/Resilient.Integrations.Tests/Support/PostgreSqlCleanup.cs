using Resilient.Integrations.Tests.Support;

[assembly: AssemblyFixture(typeof(PostgreSqlCleanup))]

namespace Resilient.Integrations.Tests.Support;

/// <summary>Stops the throw-away PostgreSQL clusters when the tests are done, inside the runner rather than at process exit.</summary>
public sealed class PostgreSqlCleanup : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await PostgreSqlServer.ReleaseAllAsync();
}
