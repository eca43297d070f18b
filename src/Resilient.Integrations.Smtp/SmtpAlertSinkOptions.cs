using MailKit.Security;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Smtp;

/// <summary>Options of the e-mail alert sink (configuration keys under <c>ResilientIntegrations:Alerts:Smtp</c>).</summary>
public sealed class SmtpAlertSinkOptions
{
    /// <summary>Gets or sets the SMTP server's host name, e.g. <c>smtp.example.com</c>.</summary>
    /// <value>Required.</value>
    public string? Host { get; set; }

    /// <summary>Gets or sets the SMTP server's port.</summary>
    /// <value>Defaults to 587 (submission). Must be between 1 and 65535.</value>
    public int Port { get; set; } = 587;

    /// <summary>
    /// Gets or sets how the connection is secured: <see cref="SecureSocketOptions.StartTls"/> for port 587,
    /// <see cref="SecureSocketOptions.SslOnConnect"/> for port 465. <see cref="SecureSocketOptions.None"/> sends
    /// everything, the password too, in clear text: only for a relay on the same host or a trusted network.
    /// </summary>
    /// <value>Defaults to <see cref="SecureSocketOptions.StartTls"/>, which refuses a server that does not offer TLS.</value>
    public SecureSocketOptions Security { get; set; } = SecureSocketOptions.StartTls;

    /// <summary>Gets or sets the user name to authenticate with; <see langword="null"/> sends without authenticating.</summary>
    /// <value>Defaults to <see langword="null"/>.</value>
    public string? UserName { get; set; }

    /// <summary>Gets or sets the password. It is a secret: it is never logged nor put in an exception's message.</summary>
    /// <value>Defaults to <see langword="null"/>; required with <see cref="UserName"/>.</value>
    public string? Password { get; set; }

    /// <summary>Gets or sets the sender, e.g. <c>Alerts &lt;alerts@example.com&gt;</c>.</summary>
    /// <value>Required; must be one mailbox address.</value>
    public string? From { get; set; }

    /// <summary>Gets the recipients, e.g. the on-call team's list.</summary>
    /// <value>Defaults to empty; at least one mailbox address is required.</value>
    public IList<string> To { get; } = [];

    /// <summary>Gets or sets the lowest severity mailed.</summary>
    /// <value>Defaults to <see cref="AlertSeverity.Warning"/>.</value>
    public AlertSeverity MinimumSeverity { get; set; } = AlertSeverity.Warning;
}
