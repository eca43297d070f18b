namespace Resilient.Integrations.AspNetCore;

/// <summary>Options of the status page mapped by <c>MapResilientIntegrations</c>.</summary>
public sealed class ResilienceStatusPageOptions
{
    /// <summary>Gets or sets the authorization policy every endpoint of the page requires.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>. Required unless <see cref="AllowAnonymous"/> is set: mapping the page with neither
    /// fails at start-up, so the page is never open by accident.
    /// </value>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>Gets or sets a value indicating whether the page is open to anyone (a page reachable only inside a private network, say).</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool AllowAnonymous { get; set; }

    /// <summary>Gets or sets how often the page reloads itself.</summary>
    /// <value>Defaults to 15 seconds. Must be between 1 second and 1 hour.</value>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the page's title.</summary>
    /// <value>Defaults to <c>Integrations</c>. Must not be empty.</value>
    public string Title { get; set; } = "Integrations";
}
