using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Alerts;

/// <summary>Writes alerts to the log: Info as Information, Warning as Warning, Critical as Critical. Registered by default.</summary>
public sealed class LoggingAlertSink : IAlertSink
{
    private readonly ILogger _logger;
    private readonly IOptionsMonitor<AlertOptions> _options;

    /// <summary>Creates the sink.</summary>
    /// <param name="loggerFactory">Creates the <c>Resilient.Integrations.Alerts</c> logger.</param>
    /// <param name="options">The alert options; <see cref="AlertOptions.LogAlerts"/> turns the sink off.</param>
    public LoggingAlertSink(ILoggerFactory loggerFactory, IOptionsMonitor<AlertOptions> options)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(options);
        _logger = loggerFactory.CreateLogger("Resilient.Integrations.Alerts");
        _options = options;
    }

    /// <inheritdoc/>
    public ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (_options.CurrentValue.LogAlerts)
        {
            var level = alert.Severity switch
            {
                AlertSeverity.Critical => LogLevel.Critical,
                AlertSeverity.Warning => LogLevel.Warning,
                _ => LogLevel.Information,
            };
            Log.AlertRaised(_logger, level, alert.Integration, alert.Severity, alert.Kind, alert.Message, alert.SuppressedCount);
        }

        return ValueTask.CompletedTask;
    }
}
