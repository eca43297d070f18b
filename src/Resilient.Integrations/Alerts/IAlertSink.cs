namespace Resilient.Integrations.Alerts;

/// <summary>
/// Delivers alerts somewhere people see them (a log, a chat webhook, a pager). Sinks run in the background, each
/// with its own queue: a slow, hanging, blocking or throwing sink never delays or fails a request, nor delays
/// another sink's alerts. A sink is never called again while a call of it is still running, so it need not be thread-safe.
/// </summary>
public interface IAlertSink
{
    /// <summary>Delivers one alert. Throw (or let the token cancel) when delivery failed, so the alert is not counted as sent.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="cancellationToken">Cancelled when the sink's time is up (see <see cref="AlertOptions.SinkTimeout"/>).</param>
    /// <returns>A task that completes when the alert was delivered.</returns>
    /// <remarks>
    /// After a failure or a timeout the sink is backed off (1 second, doubling, at most 5 minutes); the alerts it
    /// misses meanwhile reach it afterwards as one summary alert, not one by one.
    /// </remarks>
    ValueTask SendAsync(Alert alert, CancellationToken cancellationToken);
}
