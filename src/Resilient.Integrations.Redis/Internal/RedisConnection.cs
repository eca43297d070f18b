using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>The multiplexer the coordination uses: the app's own, or one made from the options on first use (never at start-up, so a Redis that is down does not stop the app).</summary>
internal sealed class RedisConnection(ResilientIntegrationsRedisOptions options, IConnectionMultiplexer? registered) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private IConnectionMultiplexer? _own;

    public string KeyPrefix => options.KeyPrefix;

    public TimeSpan Timeout => options.Timeout;

    public async ValueTask<IDatabase> DatabaseAsync() => (await MultiplexerAsync().ConfigureAwait(false)).GetDatabase();

    /// <summary>
    /// The channel a Lua script publishes to, so subscribers hear it: the multiplexer adds its <c>ChannelPrefix</c> to
    /// what it subscribes to but cannot add it to a PUBLISH inside a script. Passed as an argument, not a key, so a script
    /// touches one key (one cluster slot).
    /// </summary>
    public string PublishedChannel(string channel)
    {
        string? configuration = registered?.Configuration ?? options.Configuration;
        string prefix = "";
        try
        {
            if (configuration is not null && ConfigurationOptions.Parse(configuration).ChannelPrefix is { IsNullOrEmpty: false } channelPrefix)
            {
                prefix = channelPrefix.ToString();
            }
        }
        catch (ArgumentException)
        {
        }

        return prefix + KeyPrefix + channel;
    }

    /// <summary>Subscribes to a channel, retrying in the background until Redis first answers (the multiplexer re-subscribes after later reconnects).</summary>
    public void Subscribe(string channel, Action<RedisValue> onMessage)
    {
        var stopping = _stopping.Token;
        _ = Task.Run(
            async () =>
            {
                var channelName = RedisChannel.Literal(KeyPrefix + channel);
                for (int attempt = 0; !stopping.IsCancellationRequested; attempt++)
                {
                    try
                    {
                        var multiplexer = await MultiplexerAsync().ConfigureAwait(false);
                        await multiplexer.GetSubscriber().SubscribeAsync(channelName, (_, message) => Deliver(onMessage, message)).ConfigureAwait(false);
                        return;
                    }
                    catch (Exception ex) when (ex is RedisException or TimeoutException)
                    {
                        try
                        {
                            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(attempt, 5))), stopping).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }
                    catch (ObjectDisposedException)
                    {
                        return;
                    }
                }
            },
            CancellationToken.None);
    }

    // A message is a hint from another instance: one that cannot be taken in is dropped, never thrown into the multiplexer.
    private static void Deliver(Action<RedisValue> onMessage, RedisValue message)
    {
        try
        {
            onMessage(message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
        }
    }

    private async ValueTask<IConnectionMultiplexer> MultiplexerAsync()
    {
        if (registered is not null)
        {
            return registered;
        }

        if (Volatile.Read(ref _own) is { } own)
        {
            return own;
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

            return _own!;
        }
        finally
        {
            _connecting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_own is { } own)
        {
            await own.DisposeAsync().ConfigureAwait(false);
        }

        _connecting.Dispose();
        _stopping.Dispose();
    }
}
