using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Health.Internal;

/// <summary>
/// The scheduler's side of <see cref="IProbeTurns"/>: asks for the turn, shares the result of its own turns, and feeds the
/// monitor each newer turn another instance published (pushed, or read at the next tick in case the push was lost).
/// Every call is bounded by the turns' timeout; without an answer the instance probes on its own, and says so once.
/// </summary>
internal sealed class SharedProbing
{
    private readonly IProbeTurns _turns;
    private readonly HealthMonitor _monitor;
    private readonly TimeProvider _time;
    private readonly HashSet<string> _probed;
    private readonly ConcurrentDictionary<string, long> _takenIn = new(StringComparer.Ordinal);
    private readonly Resilient.Integrations.Internal.SharedTier _tier;

    public SharedProbing(IProbeTurns turns, HealthMonitor monitor, TimeProvider time, ILogger logger, IEnumerable<ProbeRegistration> probes)
    {
        _turns = turns;
        _monitor = monitor;
        _time = time;
        _tier = new((type, message) => Log.ProbeTurnsUnavailable(logger, type, message), () => Log.ProbeTurnsBack(logger));
        var all = probes.ToList();
        _probed = new HashSet<string>(all.Select(p => IdentityOf(p, all)), StringComparer.Ordinal);
        turns.OnResult(TakeIn);
    }

    /// <summary>The probe's identity: its integration, its place among that integration's probes, and its interval.</summary>
    public static string IdentityOf(ProbeRegistration probe, IReadOnlyList<ProbeRegistration> all)
    {
        int index = all.Where(p => string.Equals(p.Integration, probe.Integration, StringComparison.Ordinal)).ToList().IndexOf(probe);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{probe.Integration}#{index}@{(long)probe.Options.Interval.TotalMilliseconds}");
    }

    private DateTimeOffset? Now => ReferenceEquals(_time, TimeProvider.System) ? null : _time.GetUtcNow();

    /// <summary>Asks whose turn it is; <see langword="null"/> when the turns do not answer and the instance must probe itself.</summary>
    public async ValueTask<ProbeTurn?> TryTakeTurnAsync(string integration, string probe, TimeSpan interval, CancellationToken stopping)
    {
        var (answered, turn) = await CallAsync(t => _turns.TakeTurnAsync(new ProbeTurnRequest(integration, probe, interval, Now), t), stopping).ConfigureAwait(false);
        if (!answered)
        {
            return null;
        }

        if (turn.Mine)
        {
            Advance(probe, turn.Number);
        }

        return turn;
    }

    /// <summary>Shares the result of this instance's turn (the monitor has it already), in the background.</summary>
    public void Publish(string integration, string probe, long turn, HealthProbeResult result, SecretRedactor redactor)
    {
        var outcome = result.Outcome;
        var shared = new SharedProbeResult(
            integration,
            probe,
            turn,
            outcome.Kind,
            outcome.StatusCode is { } status ? (int)status : null,
            outcome.ProviderCode is { } code ? redactor.Redact(code) : null,
            outcome.Reason is { } reason ? redactor.Redact(reason) : null,
            result.Latency);
        _ = CallAsync(async t => { await _turns.PublishAsync(shared, t).ConfigureAwait(false); return true; }, CancellationToken.None).AsTask();
    }

    /// <summary>Takes in the newest stored result, in case its message never arrived.</summary>
    public async ValueTask TakeInLatestAsync(string probe, CancellationToken stopping)
    {
        if ((await CallAsync(t => _turns.ReadLatestAsync(probe, t), stopping).ConfigureAwait(false)).Value is { } latest)
        {
            TakeIn(latest);
        }
    }

    private void TakeIn(SharedProbeResult result)
    {
        if (result.Integration is not { } name || result.Probe is not { } probe || !_probed.Contains(probe) || !Advance(probe, result.Turn))
        {
            return;
        }

        var outcome = result.Kind == FailureKind.None
            ? FailureClassification.Success
            : new FailureClassification(result.Kind)
            {
                StatusCode = result.StatusCode is { } status ? (System.Net.HttpStatusCode)status : null,
                ProviderCode = result.ProviderCode,
                Reason = result.Reason,
            };
        _monitor.Report(name, new HealthProbeResult(outcome, result.Latency));
    }

    /// <summary>Records a turn as seen; false when it (or a newer one) was seen already.</summary>
    private bool Advance(string integration, long turn)
    {
        while (true)
        {
            if (!_takenIn.TryGetValue(integration, out long seen))
            {
                if (_takenIn.TryAdd(integration, turn))
                {
                    return true;
                }
            }
            else if (turn <= seen)
            {
                return false;
            }
            else if (_takenIn.TryUpdate(integration, turn, seen))
            {
                return true;
            }
        }
    }

    private ValueTask<(bool Answered, T Value)> CallAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken stopping) =>
        _tier.TryAsync(call, _turns.Timeout, stopping);
}
