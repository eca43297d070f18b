namespace Resilient.Integrations.Alerts;

/// <summary>How urgently people should look at an alert.</summary>
public enum AlertSeverity
{
    /// <summary>For the record, e.g. an integration recovered.</summary>
    Info = 0,

    /// <summary>Something degraded and may need attention, e.g. timeouts after a retry.</summary>
    Warning = 1,

    /// <summary>Needs a person now, e.g. a token expired or a quota is spent.</summary>
    Critical = 2,
}
