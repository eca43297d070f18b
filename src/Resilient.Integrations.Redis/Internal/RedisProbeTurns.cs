using System.Text.Json;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Health;
using StackExchange.Redis;

namespace Resilient.Integrations.Redis.Internal;

/// <summary>
/// One probe per integration and interval across instances: the turn is the interval's number on the shared clock, and
/// the first instance to raise the stored number to it probes. Results are stored (for an instance that missed the
/// message) and published. An instance that dies mid-turn costs that one turn: the next interval has a new number.
/// </summary>
internal sealed class RedisProbeTurns(RedisConnection connection) : IProbeTurns
{
    private const string ResultChannel = "probe-results";

    // The stored number is the latest turn claimed; it expires after a few idle intervals.
    private static readonly LuaScript Claim = LuaScript.Prepare(RedisKeys.Now + """
        local interval = tonumber(@interval)
        local turn = math.floor(now / interval)
        local claimed = tonumber(redis.call('GET', @turn) or '-1')
        if claimed >= turn then return {0, turn} end
        redis.call('SET', @turn, turn, 'PX', interval * 3)
        return {1, turn}
        """);

    private static readonly LuaScript Store = LuaScript.Prepare("""
        local stored = redis.call('GET', @result)
        if stored then
          local ok, old = pcall(cjson.decode, stored)
          if ok and type(old) == 'table' and tonumber(old['turn']) and tonumber(old['turn']) >= tonumber(@number) then return 0 end
        end
        redis.call('SET', @result, @json, 'PX', @keep)
        redis.call('PUBLISH', @channel, @json)
        return 1
        """);

    private readonly List<Action<SharedProbeResult>> _listeners = [];
    private int _subscribed;

    public TimeSpan Timeout => connection.Timeout;

    public async ValueTask<ProbeTurn> TakeTurnAsync(ProbeTurnRequest request, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var result = (RedisResult[])(await database.ScriptEvaluateAsync(
            Claim,
            new
            {
                turn = Key(request.Probe, "turn"),
                now = RedisKeys.Milliseconds(request.Now),
                interval = (long)Math.Max(1, request.Interval.TotalMilliseconds),
            }).ConfigureAwait(false))!;
        return new ProbeTurn((int)result[0] == 1, (long)result[1]);
    }

    public async ValueTask PublishAsync(SharedProbeResult result, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await database.ScriptEvaluateAsync(
            Store,
            new
            {
                result = Key(result.Probe, "result"),
                channel = connection.PublishedChannel(ResultChannel),
                json = Serialize(result),
                number = result.Turn,
                keep = (long)TimeSpan.FromHours(1).TotalMilliseconds,
            }).ConfigureAwait(false);
    }

    public async ValueTask<SharedProbeResult?> ReadLatestAsync(string probe, CancellationToken cancellationToken)
    {
        var database = await connection.DatabaseAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var stored = await database.StringGetAsync(Key(probe, "result")).ConfigureAwait(false);
        return stored.IsNullOrEmpty ? null : Deserialize(stored.ToString());
    }

    public void OnResult(Action<SharedProbeResult> onResult)
    {
        ArgumentNullException.ThrowIfNull(onResult);
        lock (_listeners)
        {
            _listeners.Add(onResult);
        }

        if (Interlocked.Exchange(ref _subscribed, 1) == 0)
        {
            connection.Subscribe(ResultChannel, Heard);
        }
    }

    private static string Serialize(SharedProbeResult result) => JsonSerializer.Serialize(new Wire
    {
        Integration = result.Integration,
        Probe = result.Probe,
        Turn = result.Turn,
        Kind = result.Kind.ToString(),
        Status = result.StatusCode,
        Code = result.ProviderCode,
        Reason = result.Reason,
        LatencyMs = result.Latency.TotalMilliseconds,
    }, WireContext.Default.Wire);

    // A result another version of the app wrote, or a stranger's text, is ignored rather than trusted.
    private static SharedProbeResult? Deserialize(string json)
    {
        try
        {
            var wire = JsonSerializer.Deserialize(json, WireContext.Default.Wire);
            return wire is { Integration: { } name, Probe: { } probe } && Enum.TryParse<FailureKind>(wire.Kind, out var kind) && Enum.IsDefined(kind)
                ? new SharedProbeResult(name, probe, wire.Turn, kind, wire.Status, wire.Code, wire.Reason, TimeSpan.FromMilliseconds(Math.Clamp(wire.LatencyMs, 0, 86_400_000)))
                : null;
        }
        catch (Exception ex) when (ex is JsonException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    private void Heard(RedisValue message)
    {
        if (Deserialize(message.ToString()) is not { } result)
        {
            return;
        }

        Action<SharedProbeResult>[] listeners;
        lock (_listeners)
        {
            listeners = [.. _listeners];
        }

        foreach (var listener in listeners)
        {
            listener(result);
        }
    }

    private RedisKey Key(string probe, string what) => connection.KeyPrefix + "probe:" + RedisKeys.Hash(probe) + ":" + what;

    internal sealed class Wire
    {
        public string? Integration { get; set; }

        public string? Probe { get; set; }

        public long Turn { get; set; }

        public string? Kind { get; set; }

        public int? Status { get; set; }

        public string? Code { get; set; }

        public string? Reason { get; set; }

        public double LatencyMs { get; set; }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(RedisProbeTurns.Wire))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class WireContext : System.Text.Json.Serialization.JsonSerializerContext;
