using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>
/// A change token for one configuration section that fires only when that section's values change. The
/// root reload token fires on any edit (a log level, say); rebuilding an integration's pipeline for that
/// would throw away an open circuit for nothing.
/// </summary>
internal sealed class SectionChangeWatcher : IDisposable
{
    private readonly IConfigurationSection _section;
    private readonly IDisposable _subscription;
    private CancellationTokenSource _changed = new();
    private string _snapshot;

    public SectionChangeWatcher(IConfiguration configuration, string path)
    {
        _section = configuration.GetSection(path);
        _snapshot = Snapshot();
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, OnReload);
    }

    public IChangeToken Token => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public void Dispose()
    {
        _subscription.Dispose();
        _changed.Dispose();
    }

    private void OnReload()
    {
        string now = Snapshot();
        if (now == _snapshot)
        {
            return;
        }

        _snapshot = now;

        // Not disposed: a reader may still be taking its token; the fired source holds no timer.
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        previous.Cancel();
    }

    private string Snapshot() =>
        string.Join('\n', _section.AsEnumerable().Where(kv => kv.Value is not null).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));
}
