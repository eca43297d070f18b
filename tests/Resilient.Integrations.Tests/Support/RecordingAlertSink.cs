using System.Collections.Concurrent;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Tests.Support;

/// <summary>Keeps every alert it receives and lets a test wait for them.</summary>
public sealed class RecordingAlertSink : IAlertSink
{
    private readonly ConcurrentQueue<Alert> _alerts = new();
    private readonly SemaphoreSlim _arrived = new(0);

    public IReadOnlyList<Alert> Alerts => [.. _alerts];

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
        while (_alerts.Count < count)
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

    /// <summary>Gives the background dispatcher a moment, then returns what arrived: for asserting that nothing did.</summary>
    public async Task<IReadOnlyList<Alert>> SettleAsync()
    {
        await Task.Delay(100);
        return Alerts;
    }
}
