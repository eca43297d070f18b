using System.Collections.Concurrent;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Tests.Support;

/// <summary>Keeps every alert it receives and lets a test wait for them.</summary>
public sealed class RecordingAlertSink : IAlertSink
{
    public const string Sentinel = "__drained__";

    private readonly ConcurrentQueue<Alert> _alerts = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyList<Alert> Alerts => [.. _alerts.Where(a => a.Integration != Sentinel)];

    public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        _alerts.Enqueue(alert);
        _arrived.Release();
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits (bounded, real time) until at least <paramref name="count"/> alerts arrived.</summary>
    public async Task<IReadOnlyList<Alert>> WaitForAsync(int count, int timeoutMs = 5_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        while (Alerts.Count < count)
        {
            try
            {
                await _arrived.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return Alerts;
    }

    /// <summary>
    /// Publishes a sentinel and waits for it: the dispatcher delivers in order, so every alert published
    /// before has been delivered (or suppressed) by then. For asserting that nothing (more) arrived.
    /// </summary>
    public async Task<IReadOnlyList<Alert>> SettleAsync(IAlertDispatcher dispatcher)
    {
        string id = Guid.NewGuid().ToString("N");
        dispatcher.Publish(new Alert { Integration = Sentinel, Severity = AlertSeverity.Info, Message = id, Unsuppressed = true });
        using var cts = new CancellationTokenSource(10_000);
        while (!_alerts.Any(a => a.Message == id))
        {
            await _arrived.WaitAsync(cts.Token);
        }

        return Alerts;
    }
}
