namespace Resilient.Integrations.Alerts;

/// <summary>
/// Delivers alerts somewhere people see them (a log, a chat webhook, a pager). Sinks run in the background:
/// a slow, hanging or throwing sink never delays or fails a request, nor stops other sinks.
/// </summary>
public interface IAlertSink
{
    /// <summary>Delivers one alert. Throw (or let the token cancel) when delivery failed, so the alert is not counted as sent.</summary>
    /// <param name="alert">The alert.</param>
    /// <param name="cancellationToken">Cancelled when the sink's time is up (see <see cref="AlertOptions.SinkTimeout"/>).</param>
    /// <returns>A task that completes when the alert was delivered.</returns>
    ValueTask SendAsync(Alert alert, CancellationToken cancellationToken);
}
