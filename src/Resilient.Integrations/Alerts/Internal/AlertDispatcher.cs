using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Redaction.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Alerts.Internal;

/// <summary>
/// A bounded queue drained by one background loop. Each alert fans out to every sink at once, each sink with
/// its own timeout and its own de-duplication state, so one sink's failure neither blocks nor silences another.
/// </summary>
internal sealed class AlertDispatcher : IAlertDispatcher, IAsyncDisposable, IDisposable
{
    private readonly IAlertSink[] _sinks;
    private readonly IOptionsMonitor<AlertOptions> _options;
    private readonly TimeProvider _time;
    private readonly IntegrationMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<Alert> _queue;
    private readonly ConcurrentDictionary<(int Sink, string Integration, FailureKind Kind), DedupeState> _state = new();
    private readonly CancellationTokenSource _stopping = new();
    private AlertOptions _lastValidOptions;
    private readonly Task _loop;
    private int _disposed;

    public AlertDispatcher(
        IEnumerable<IAlertSink> sinks, IOptionsMonitor<AlertOptions> options, TimeProvider time, IntegrationMetrics metrics, ILoggerFactory loggerFactory)
    {
        // One sink reached through several registrations (an instance or a factory added for each integration)
        // must get each alert once, not once per registration.
        _sinks = [.. sinks.Distinct<IAlertSink>(ReferenceEqualityComparer.Instance)];
        _options = options;
        _lastValidOptions = options.CurrentValue;
        _time = time;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger("Resilient.Integrations.Alerts");
        // Wait mode makes TryWrite report a full queue instead of silently dropping; TryWrite itself never waits.
        _queue = Channel.CreateBounded<Alert>(
            new BoundedChannelOptions(options.CurrentValue.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _loop = Task.Run(DrainAsync);
    }

    public void ResetCooldown(string integration)
    {
        ArgumentNullException.ThrowIfNull(integration);
        foreach (var key in _state.Keys.Where(k => k.Integration == integration))
        {
            _state.TryRemove(key, out _);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        // A marker that no sink sees: the single reader reaches it only after everything queued before it.
        var marker = new Alert { Integration = string.Empty, Severity = AlertSeverity.Info, Message = string.Empty, Flushed = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        try
        {
            await _queue.Writer.WriteAsync(marker, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return; // disposed: nothing more will be delivered
        }

        // A loop that has ended (disposed) will never reach the marker.
        await Task.WhenAny(marker.Flushed!.Task, _loop).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public bool Publish(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (_queue.Writer.TryWrite(alert))
        {
            return true;
        }

        _metrics.AlertDropped(alert.Integration);
        Log.AlertDropped(_logger, alert.Integration, alert.Kind);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        // The container may dispose the instance twice: once as itself, once as IAlertDispatcher.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    public void Dispose()
    {
        // Synchronous disposal stops delivery without waiting for sinks in flight.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _stopping.Cancel();
    }

    private async Task DrainAsync()
    {
        try
        {
            await foreach (var alert in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (alert.Flushed is { } flushed)
                {
                    flushed.TrySetResult();
                    continue;
                }

                if (alert.ResetsCooldown)
                {
                    ResetCooldown(alert.Integration);
                }

                var options = CurrentOptions();
                var deliveries = new Task[_sinks.Length];
                for (int i = 0; i < _sinks.Length; i++)
                {
                    deliveries[i] = DeliverAsync(i, alert, options);
                }

                await Task.WhenAll(deliveries).ConfigureAwait(false);
            }
        }
        catch (Exception) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: sinks still in flight are abandoned.
        }
    }

    private async Task DeliverAsync(int sinkIndex, Alert alert, AlertOptions options)
    {
        var state = _state.GetOrAdd((sinkIndex, alert.Integration, alert.Kind), _ => new DedupeState());
        var now = _time.GetUtcNow();
        int suppressed;
        lock (state)
        {
            // A repeat within the cooldown is counted, not sent; a more severe alert is never held back.
            if (state.LastSent is { } last && now - last < options.Cooldown && alert.Severity <= state.LastSeverity)
            {
                state.Suppressed++;
                _metrics.AlertSuppressed(alert.Integration, alert.Severity);
                return;
            }

            suppressed = state.Suppressed;
        }

        var sink = _sinks[sinkIndex];
        try
        {
            using var timer = new CancellationTokenSource(options.SinkTimeout, _time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, _stopping.Token);
            var toSend = alert.WithSuppressedCount(suppressed);

            // Task.Run shields the loop from a sink that blocks synchronously; the race against the timer that
            // was started before the sink bounds one that ignores its token.
            var send = Task.Run(() => sink.SendAsync(toSend, timeout.Token).AsTask(), CancellationToken.None);
            if (await Task.WhenAny(send, Task.Delay(Timeout.Infinite, timeout.Token)).ConfigureAwait(false) != send)
            {
                _stopping.Token.ThrowIfCancellationRequested();
                throw new TimeoutException($"The sink did not finish within {options.SinkTimeout}.");
            }

            await send.ConfigureAwait(false);
            lock (state)
            {
                // Only a delivered alert starts the cooldown.
                state.LastSent = now;
                state.LastSeverity = alert.Severity;
                state.Suppressed -= suppressed;
            }

            _metrics.AlertSent(alert.Integration, alert.Severity);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            Log.AlertSinkFailed(_logger, sink.GetType().Name, alert.Integration, ex.GetType().Name, SecretRedactor.RedactExceptionMessage(ex));
            _metrics.AlertSinkFailed(alert.Integration);
        }
    }

    /// <summary>The current options, or the last valid ones while a reload is invalid: alerting must not stop.</summary>
    private AlertOptions CurrentOptions()
    {
        try
        {
            return _lastValidOptions = _options.CurrentValue;
        }
        catch (OptionsValidationException)
        {
            return _lastValidOptions;
        }
    }

    private sealed class DedupeState
    {
        public DateTimeOffset? LastSent { get; set; }

        public AlertSeverity LastSeverity { get; set; }

        public int Suppressed { get; set; }
    }
}
