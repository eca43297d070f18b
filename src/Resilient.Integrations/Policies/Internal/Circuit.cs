using Polly;
using Polly.CircuitBreaker;
using Polly.Telemetry;
using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>
/// The integration's one circuit, run inside the attempt step: Polly's advanced circuit breaker (failure ratio over a
/// rolling sampling window of ten buckets, a minimum throughput, one half-open probe per break), with the same
/// transitions, exceptions and telemetry events, but a closed circuit costs the success path two volatile reads and
/// an interlocked increment instead of a pipeline step, two locks and a clock read. Every transition takes the lock.
/// </summary>
internal sealed class Circuit
{
    private const int Windows = 10;
    private const string OpenMessage = "The circuit is now open and is not allowing calls."; // Polly's own words

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly double _failureRatio;
    private readonly int _minimumThroughput;
    private readonly long _samplingTicks;
    private readonly long _windowTicks;
    private readonly long _breakTicks;
    private readonly Queue<Window> _windows = new();
    private readonly ResilienceStrategyTelemetry _telemetry;
    private readonly Action<TimeSpan, Outcome<HttpResponseMessage>> _opened;
    private readonly Action _closed;
    private Window? _current;
    private int _state; // CircuitState: written under the lock, read without it
    private long _blockedUntil;
    private Exception? _breakingException;

    public Circuit(
        CircuitBreakerPolicy policy, TimeProvider time, ResilienceStrategyTelemetry telemetry, Action<TimeSpan, Outcome<HttpResponseMessage>> opened, Action closed)
    {
        _time = time;
        _failureRatio = policy.FailureRatio;
        _minimumThroughput = policy.MinimumThroughput;
        _samplingTicks = policy.SamplingDuration.Ticks;
        _breakTicks = policy.BreakDuration.Ticks;
        _windowTicks = _samplingTicks / Windows; // the sampling duration is at least 0.5 s, as Polly requires: always ten buckets
        _telemetry = telemetry;
        _opened = opened;
        _closed = closed;
    }

    public CircuitState State => (CircuitState)Volatile.Read(ref _state);

    /// <summary>Lets the attempt through, or says why not: open, or half-open with its one probe under way.</summary>
    /// <returns><see langword="null"/> when the attempt may go.</returns>
    public BrokenCircuitException? Enter(ResilienceContext context)
    {
        if (Volatile.Read(ref _state) == (int)CircuitState.Closed)
        {
            return null;
        }

        lock (_gate)
        {
            long now = Now();
            var state = (CircuitState)_state;
            if (state == CircuitState.Open && now >= _blockedUntil)
            {
                // The break is over: this attempt is the probe, and every other is refused until its outcome is counted.
                _blockedUntil = now + _breakTicks;
                _state = (int)CircuitState.HalfOpen;
                _telemetry.Report(new ResilienceEvent(ResilienceEventSeverity.Warning, "OnCircuitHalfOpened"), context, new OnCircuitHalfOpenedArguments(context));
                return null;
            }

            if (state is CircuitState.Open or CircuitState.HalfOpen)
            {
                var retryAfter = TimeSpan.FromTicks(_blockedUntil - now);
                var broken = _breakingException is { } ex
                    ? new BrokenCircuitException(OpenMessage, retryAfter, ex)
                    : new BrokenCircuitException(OpenMessage, retryAfter);
                _telemetry.SetTelemetrySource(broken);
                return broken;
            }

            return null;
        }
    }

    /// <summary>Counts an attempt's outcome: a failure that counts may open the circuit; a half-open probe closes or reopens it.</summary>
    public void Record(Outcome<HttpResponseMessage> outcome, bool countsAgainst, ResilienceContext context)
    {
        if (!countsAgainst)
        {
            if (Volatile.Read(ref _state) == (int)CircuitState.Closed && Volatile.Read(ref _current) is { } window && Now() - window.Start < _windowTicks)
            {
                Interlocked.Increment(ref window.Successes);
                return;
            }

            bool closed = false;
            lock (_gate)
            {
                Interlocked.Increment(ref Bucket(Now()).Successes);
                if (_state == (int)CircuitState.HalfOpen)
                {
                    Close();
                    closed = true;
                    _telemetry.Report(new ResilienceEvent(ResilienceEventSeverity.Information, "OnCircuitClosed"), context, outcome, new OnCircuitClosedArguments<HttpResponseMessage>(context, outcome, isManual: false));
                }
            }

            if (closed)
            {
                _closed();
            }

            return;
        }

        bool opened = false;
        lock (_gate)
        {
            _breakingException = outcome.Exception;
            long now = Now();
            Interlocked.Increment(ref Bucket(now).Failures);
            var state = (CircuitState)_state;
            if (state == CircuitState.HalfOpen || (state == CircuitState.Closed && ShouldBreak(now)))
            {
                _blockedUntil = now + _breakTicks;
                Volatile.Write(ref _state, (int)CircuitState.Open);
                opened = true;
                _telemetry.Report(
                    new ResilienceEvent(ResilienceEventSeverity.Error, "OnCircuitOpened"),
                    context,
                    outcome,
                    new OnCircuitOpenedArguments<HttpResponseMessage>(context, outcome, TimeSpan.FromTicks(_breakTicks), isManual: false));
            }
        }

        if (opened)
        {
            _opened(TimeSpan.FromTicks(_breakTicks), outcome);
        }
    }

    private long Now() => CoarseClock.UtcTicks(_time);

    private bool ShouldBreak(long now)
    {
        long successes = 0, failures = 0;
        foreach (var window in _windows)
        {
            if (now - window.Start < _samplingTicks)
            {
                successes += Volatile.Read(ref window.Successes);
                failures += Volatile.Read(ref window.Failures);
            }
        }

        long throughput = successes + failures;
        return throughput > 0 && throughput >= _minimumThroughput && failures / (double)throughput >= _failureRatio;
    }

    /// <summary>The bucket for <paramref name="now"/>, starting a new one when the current one is over; under the lock.</summary>
    private Window Bucket(long now)
    {
        var current = _current;
        if (current is null || now - current.Start >= _windowTicks)
        {
            current = new Window(now);
            _windows.Enqueue(current);
            Volatile.Write(ref _current, current);
        }

        while (now - _windows.Peek().Start >= _samplingTicks)
        {
            _windows.Dequeue();
        }

        return current;
    }

    private void Close()
    {
        _blockedUntil = 0;
        _breakingException = null;
        _windows.Clear();
        Volatile.Write(ref _current, null);
        Volatile.Write(ref _state, (int)CircuitState.Closed);
    }

    private sealed class Window(long start)
    {
        public readonly long Start = start;
        public int Successes;
        public int Failures;
    }
}
