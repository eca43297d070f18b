using System.Collections.Concurrent;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>
/// The live calls of one integration that went on in the background past their soft timeout: how many, and for which
/// request shapes, so that their number stays bounded and one shape never has two of them.
/// </summary>
internal sealed class BackgroundRefreshes
{
    private readonly ConcurrentDictionary<string, byte> _keys = new(StringComparer.Ordinal);
    private int _running;

    /// <summary>Gets how many run now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Whether the live call of this request shape runs on in the background.</summary>
    public bool IsRefreshing(string key) => Volatile.Read(ref _running) > 0 && _keys.ContainsKey(key);

    /// <summary>Takes a place for a live call of <paramref name="key"/>, unless <paramref name="max"/> run already or one of the same shape does.</summary>
    public bool TryStart(string key, int max)
    {
        if (Interlocked.Increment(ref _running) > max)
        {
            Interlocked.Decrement(ref _running);
            return false;
        }

        if (!_keys.TryAdd(key, 0))
        {
            Interlocked.Decrement(ref _running);
            return false;
        }

        return true;
    }

    public void End(string key)
    {
        _keys.TryRemove(key, out _);
        Interlocked.Decrement(ref _running);
    }
}
