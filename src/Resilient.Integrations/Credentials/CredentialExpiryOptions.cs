namespace Resilient.Integrations.Credentials;

/// <summary>
/// Options of an integration's credential-expiry watch: where it learns when the credential expires, and how far
/// ahead it warns. Named by integration; validated at start-up.
/// </summary>
public sealed class CredentialExpiryOptions
{
    /// <summary>Gets or sets how long before the expiry a Warning is raised (and health turns Yellow); Critical follows at the expiry.</summary>
    /// <value>Defaults to 3 days. Must be positive.</value>
    public TimeSpan WarnBefore { get; set; } = TimeSpan.FromDays(3);

    /// <summary>
    /// Gets or sets a JWT credential whose <c>exp</c> claim is read at start-up. The token is decoded, never validated,
    /// logged or sent anywhere by the watch.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? Token { get; set; }

    /// <summary>Gets or sets when the credential expires, when you know it (a key's documented end date).</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>
    /// Gets or sets a response header in which the API states when the credential expires, e.g. GitHub's
    /// <c>github-authentication-token-expiration</c>. Read only when its value changes.
    /// </summary>
    /// <value>Defaults to <see langword="null"/> (no header); profiles set their API's.</value>
    public string? ExpiryHeader { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the <c>exp</c> claim of a JWT sent as the integration's bearer token is
    /// read (once per distinct token). A token whose whole lifetime is shorter than <see cref="WarnBefore"/> is a
    /// short-lived one that is refreshed as a matter of course: it is never warned about ahead, only reported Critical if
    /// a request still carries it after it expired.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool ReadBearerTokens { get; set; } = true;
}
