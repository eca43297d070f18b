using Resilient.Integrations.Tests.Support;

[assembly: AssemblyFixture(typeof(RedisCleanup))]

namespace Resilient.Integrations.Tests.Support;

/// <summary>Stops the throw-away redis-servers when the tests are done, inside the runner rather than at process exit.</summary>
public sealed class RedisCleanup : IAsyncDisposable
{
    public async ValueTask DisposeAsync() => await RedisServer.ReleaseAllAsync();
}
