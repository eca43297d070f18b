namespace Resilient.Integrations.Alerts;

/// <summary>
/// Shares alert de-duplication between the instances of an app (e.g. through Redis), so ten instances meeting one
/// expired token page once, not ten times. Asked once per alert and sink, off the request path, after the instance's own
/// cooldown let the alert through; when it cannot answer within a short timeout the alert is sent anyway.
/// </summary>
public interface IAlertClaims
{
    /// <summary>Gets how long a claim may take before the alert is sent without one.</summary>
    TimeSpan Timeout { get; }

    /// <summary>Claims the right to send an alert to a sink for the cooldown, across instances.</summary>
    /// <param name="request">What the alert is and where it goes.</param>
    /// <param name="cancellationToken">Cancelled when the timeout passes or the app stops.</param>
    /// <returns>Whether this instance sends it, and how many repeats other instances held back since the last one sent.</returns>
    ValueTask<AlertClaim> ClaimAsync(AlertClaimRequest request, CancellationToken cancellationToken);
}

/// <summary>An alert that an instance is about to send to a sink.</summary>
/// <param name="Integration">The integration.</param>
/// <param name="Identity">What makes alerts repeats of each other: the integration, kind and topic (no message text).</param>
/// <param name="Severity">The alert's severity: a more severe alert than the one claimed is always sent.</param>
/// <param name="Sink">The sink's name.</param>
/// <param name="Cooldown">How long a sent alert holds back its repeats (<see cref="AlertOptions.Cooldown"/>).</param>
/// <param name="EndsEpisode">
/// The alert announces the integration's recovery: the claims of its episode end with it, so the next outage alerts
/// again even within the cooldown, on every instance.
/// </param>
public readonly record struct AlertClaimRequest(string Integration, string Identity, AlertSeverity Severity, string Sink, TimeSpan Cooldown, bool EndsEpisode = false);

/// <summary>The answer to an <see cref="AlertClaimRequest"/>.</summary>
/// <param name="Send">Whether this instance sends the alert.</param>
/// <param name="SuppressedElsewhere">Repeats held back across instances since the last one sent, reported with this one.</param>
public readonly record struct AlertClaim(bool Send, int SuppressedElsewhere);
