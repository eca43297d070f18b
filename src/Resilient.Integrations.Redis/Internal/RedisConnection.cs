using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>The multiplexer the coordination uses: the app's own, or one made from the options on first use (never at start-up, so a Redis that is down does not stop the app).</summary>
internal sealed class RedisConnection(ResilientIntegrationsRedisOptions options, IConnectionMultiplexer? registered) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private IConnectionMultiplexer? _own;

    public string KeyPrefix => options.KeyPrefix;

    public TimeSpan Timeout => options.Timeout;

    public async ValueTask<IDatabase> DatabaseAsync()
    {
        if (registered is not null)
        {
            return registered.GetDatabase();
        }

        if (Volatile.Read(ref _own) is { } own)
        {
            return own.GetDatabase();
        }

        await _connecting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_own is null)
            {
                var configuration = ConfigurationOptions.Parse(options.Configuration!);
                configuration.AbortOnConnectFail = false; // reconnects in the background: callers fall back meanwhile
                Volatile.Write(ref _own, await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false));
            }

            return _own!.GetDatabase();
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_own is { } own)
        {
            await own.DisposeAsync().ConfigureAwait(false);
        }

        _connecting.Dispose();
    }
}
