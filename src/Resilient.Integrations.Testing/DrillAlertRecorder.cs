using System.Collections.Concurrent;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Testing;

/// <summary>An alert sink that keeps what it receives, so a drill can check that alerts really fired.</summary>
public sealed class DrillAlertRecorder : IAlertSink
{
    private readonly ConcurrentQueue<Alert> _alerts = new();

    /// <summary>Gets the alerts received so far.</summary>
    public IReadOnlyList<Alert> Alerts => [.. _alerts];

    /// <inheritdoc/>
    public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        _alerts.Enqueue(alert);
        return ValueTask.CompletedTask;
    }

    internal void Clear()
    {
        while (_alerts.TryDequeue(out _))
        {
        }
    }
}
