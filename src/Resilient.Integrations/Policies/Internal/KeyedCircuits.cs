using System.Collections.Concurrent;
using Polly;
using Polly.CircuitBreaker;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>What a keyed circuit guards, which decides what its opening means for the integration.</summary>
internal enum CircuitRole
{
    /// <summary>Every call the other roles do not cover: the integration's own circuit.</summary>
    Whole,

    /// <summary>One request authority, with <see cref="CircuitBreakerPolicy.PerHost"/>.</summary>
    Host,

    /// <summary>One failover endpoint (the primary or a secondary).</summary>
    Endpoint,
}

/// <summary>
/// One Polly circuit breaker per key (a host, a failover endpoint), each a pipeline of its own so that Polly's
/// state machine (sampling, half-open probe) is used as it is. Polly's pipeline registry keeps every key forever;
/// keys here come from request addresses, so they are bounded: a circuit unused for a while is dropped, and past
/// the bound the least recently used goes first. The success path is a lock-free lookup and a timestamp write.
/// </summary>
internal sealed class KeyedCircuits(TimeProvider time, int maxKeys, TimeSpan idleAfter, Func<KeyedCircuit, ResiliencePipeline<HttpResponseMessage>> build)
{
    private readonly ConcurrentDictionary<string, KeyedCircuit> _circuits = new(StringComparer.Ordinal);
    private readonly object _adding = new();
    private long _nextSweep = time.GetUtcNow().UtcTicks + idleAfter.Ticks;

    /// <summary>Raised (outside any lock) for a circuit dropped as idle or over the bound.</summary>
    public event Action<KeyedCircuit>? Dropped;

    public int Count => _circuits.Count;

    /// <summary>Drops every circuit (the pipeline was rebuilt with new options): what they reported goes with them.</summary>
    public void DropAll()
    {
        foreach (var circuit in _circuits.Values)
        {
            if (_circuits.TryRemove(new KeyValuePair<string, KeyedCircuit>(circuit.Key, circuit)))
            {
                Dropped?.Invoke(circuit);
            }
        }
    }

    public KeyedCircuit Get(string key, string label, CircuitRole role)
    {
        long now = time.GetUtcNow().UtcTicks;
        if (!_circuits.TryGetValue(key, out var circuit))
        {
            circuit = Add(key, label, role, now);
        }

        circuit.LastUsed = now;
        return circuit;
    }

    public bool TryGet(string key, out KeyedCircuit? circuit) => _circuits.TryGetValue(key, out circuit);

    /// <summary>The worst state among the circuits (open before half-open before closed); <see langword="null"/> when there are none.</summary>
    public CircuitState? Worst()
    {
        CircuitState? worst = null;
        foreach (var circuit in _circuits.Values)
        {
            var state = circuit.State.CircuitState;
            if (worst is null || Rank(state) > Rank(worst.Value))
            {
                worst = state;
            }
        }

        return worst;
    }

    /// <summary>Each circuit's label and state, for the status report.</summary>
    public IReadOnlyDictionary<string, string> Snapshot() =>
        _circuits.Values.OrderBy(c => c.Label, StringComparer.Ordinal).ToDictionary(c => c.Label, c => c.State.CircuitState.ToString(), StringComparer.Ordinal);

    public IEnumerable<KeyedCircuit> All => _circuits.Values;

    private static int Rank(CircuitState state) => state switch
    {
        CircuitState.Open or CircuitState.Isolated => 2,
        CircuitState.HalfOpen => 1,
        _ => 0,
    };

    private KeyedCircuit Add(string key, string label, CircuitRole role, long now)
    {
        List<KeyedCircuit>? dropped = null;
        KeyedCircuit? circuit;
        lock (_adding)
        {
            if (_circuits.TryGetValue(key, out circuit))
            {
                return circuit;
            }

            if (now >= _nextSweep)
            {
                _nextSweep = now + idleAfter.Ticks;
                foreach (var idle in _circuits.Values.Where(c => now - c.LastUsed > idleAfter.Ticks).ToList())
                {
                    Remove(idle, ref dropped);
                }
            }

            while (_circuits.Count >= maxKeys && _circuits.Values.MinBy(c => c.LastUsed) is { } oldest)
            {
                Remove(oldest, ref dropped);
            }

            circuit = new KeyedCircuit(key, label, role) { LastUsed = now };
            circuit.Pipeline = build(circuit);
            _circuits[key] = circuit;
        }

        foreach (var gone in dropped ?? [])
        {
            Dropped?.Invoke(gone);
        }

        return circuit;
    }

    private void Remove(KeyedCircuit circuit, ref List<KeyedCircuit>? dropped)
    {
        if (_circuits.TryRemove(new KeyValuePair<string, KeyedCircuit>(circuit.Key, circuit)))
        {
            (dropped ??= []).Add(circuit);
        }
    }
}

/// <summary>One key's circuit: its Polly pipeline and state, and when it was last used and is open until.</summary>
internal sealed class KeyedCircuit(string key, string label, CircuitRole role)
{
    private long _lastUsed;
    private long _openUntil;

    public string Key { get; } = key;

    /// <summary>What alerts, logs and the status report call it: an address without user information or query.</summary>
    public string Label { get; } = label;

    public CircuitRole Role { get; } = role;

    public CircuitBreakerStateProvider State { get; } = new();

    public ResiliencePipeline<HttpResponseMessage> Pipeline { get; set; } = ResiliencePipeline<HttpResponseMessage>.Empty;

    public long LastUsed
    {
        get => Volatile.Read(ref _lastUsed);
        set => Volatile.Write(ref _lastUsed, value);
    }

    /// <summary>Whether the circuit is open and its break not yet over: it can be passed over without a call into Polly.</summary>
    public bool IsKnownOpen(long nowTicks) => Volatile.Read(ref _openUntil) > nowTicks;

    public void Opened(long untilTicks) => Volatile.Write(ref _openUntil, untilTicks);

    public void Closed() => Volatile.Write(ref _openUntil, 0);
}
