using System.Collections.Concurrent;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Tests.Support;

/// <summary>
/// One sink shared by several instances (the pager on-call people carry). Its own type, so its name differs from each
/// instance's <see cref="RecordingAlertSink"/> and shared alert claims count it apart.
/// </summary>
public sealed class SharedPager : IAlertSink
{
    private readonly ConcurrentQueue<Alert> _alerts = new();

    public IReadOnlyList<Alert> Alerts => [.. _alerts];

    public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        _alerts.Enqueue(alert);
        return ValueTask.CompletedTask;
    }
}
