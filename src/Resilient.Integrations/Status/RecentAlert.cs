using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Status;

/// <summary>An alert as it was raised, for the status page.</summary>
/// <param name="Time">When it was raised.</param>
/// <param name="Integration">The integration.</param>
/// <param name="Severity">The severity.</param>
/// <param name="Kind">The failure kind.</param>
/// <param name="Message">The message, redacted when it was raised.</param>
public sealed record RecentAlert(DateTimeOffset Time, string Integration, AlertSeverity Severity, FailureKind Kind, string Message);
