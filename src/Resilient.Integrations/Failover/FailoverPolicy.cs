using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Failover;

/// <summary>
/// Failover to secondary base addresses of the same API (another region, a replica). Each endpoint has its own
/// circuit: a call goes to the first endpoint whose circuit admits it, and moves on at once when that endpoint is
/// unavailable or times out. The primary is tried again as soon as its circuit half-opens. A request is sent to a
/// secondary with its headers unchanged, credentials included: list only endpoints of the same API and owner.
/// </summary>
public sealed class FailoverPolicy
{
    /// <summary>
    /// Gets the secondary base addresses, in the order they are tried after the primary. The primary is the
    /// integration's <see cref="Policies.ResilientIntegrationOptions.BaseAddress"/>, or, when that is not set, the
    /// scheme, host and port of each request. A request under the primary is sent to a secondary with the rest of its
    /// path and its query kept: <c>https://us.api.example.com/v1/orders?x=1</c> becomes <c>https://eu.api.example.com/v1/orders?x=1</c>.
    /// </summary>
    /// <value>Defaults to empty: no failover. Each must be an absolute http or https address without user information, query or fragment.</value>
    public IList<Uri> Endpoints { get; } = [];

    /// <summary>Gets or sets the severity of the alert raised once per episode when a secondary starts answering for the primary; <see langword="null"/> raises none.</summary>
    /// <value>Defaults to <see cref="AlertSeverity.Warning"/>.</value>
    public AlertSeverity? Alert { get; set; } = AlertSeverity.Warning;
}
