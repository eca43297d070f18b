using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Options;
using MimeKit;
using Resilient.Integrations.Alerts;

namespace Resilient.Integrations.Smtp.Internal;

/// <summary>
/// E-mails each alert over SMTP with MailKit: a subject that reads as the alert's one line, a plain-text body with its
/// facts. A connection per alert: alerts are rare, and a kept connection would go stale between them. Any failure
/// throws (so the dispatcher backs the sink off) with a message that carries no credential.
/// </summary>
internal sealed class SmtpAlertSink : IAlertSink
{
    private const int MaxSubject = 200;

    private readonly SmtpAlertSinkOptions _options;
    private readonly IOptionsMonitor<AlertOptions> _alertOptions;

    // Options checked at start-up (SmtpAlertSinkOptionsValidator): Host and From are set.
    public SmtpAlertSink(IOptions<SmtpAlertSinkOptions> options, IOptionsMonitor<AlertOptions> alertOptions)
    {
        _options = options.Value;
        _alertOptions = alertOptions;
    }

    public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Severity < _options.MinimumSeverity)
        {
            return;
        }

        using var message = Compose(alert);
        using var client = new SmtpClient
        {
            // MailKit's own per-operation timeout, kept within the dispatcher's bound; the token ends the call either way.
            Timeout = (int)Math.Min(int.MaxValue, _alertOptions.CurrentValue.SinkTimeout.TotalMilliseconds),
        };
        try
        {
            await client.ConnectAsync(_options.Host!, _options.Port, _options.Security, cancellationToken).ConfigureAwait(false);
            if (_options.UserName is { } user)
            {
                await client.AuthenticateAsync(user, _options.Password ?? string.Empty, cancellationToken).ConfigureAwait(false);
            }

            await client.SendAsync(message, cancellationToken).ConfigureAwait(false);
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not wrapped as the inner exception: whoever logs this one must not find the server's words unscrubbed.
            throw new SmtpAlertDeliveryException(
                $"The alert e-mail could not be sent via {_options.Host}:{_options.Port.ToString(CultureInfo.InvariantCulture)}: {ex.GetType().Name}: {Scrub(ex.Message)}");
        }
    }

    internal MimeMessage Compose(Alert alert)
    {
        var message = new MimeMessage
        {
            Subject = Subject(alert),
            Date = alert.Time == default ? DateTimeOffset.UtcNow : alert.Time,
            Body = new TextPart("plain") { Text = Body(alert) },
        };
        message.From.Add(MailboxAddress.Parse(_options.From!));
        message.To.AddRange(_options.To.Select(MailboxAddress.Parse));
        message.Headers.Add("X-Resilient-Integration", alert.Integration);
        return message;
    }

    private static string Subject(Alert alert)
    {
        // One line: a message with line breaks must not fold into the headers.
        string line = alert.ToString().ReplaceLineEndings(" ");
        return line.Length <= MaxSubject ? line : line[..(MaxSubject - 1)] + "…";
    }

    private static string Body(Alert alert)
    {
        var body = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{alert.Severity}: {alert.Integration}")
            .AppendLine()
            .AppendLine(alert.Message)
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"Severity: {alert.Severity}")
            .AppendLine(CultureInfo.InvariantCulture, $"Failure kind: {alert.Kind}")
            .AppendLine(CultureInfo.InvariantCulture, $"Time: {alert.Time:u}");
        if (alert.SuppressedCount > 0)
        {
            body.AppendLine(CultureInfo.InvariantCulture, $"Repeats suppressed: {alert.SuppressedCount}");
        }

        foreach (var (key, value) in alert.Details)
        {
            body.AppendLine(CultureInfo.InvariantCulture, $"{key}: {value}");
        }

        return body.ToString();
    }

    /// <summary>Masks the password, and the forms AUTH PLAIN and LOGIN send it in, should a server echo them.</summary>
    private string Scrub(string text)
    {
        if (string.IsNullOrEmpty(_options.Password))
        {
            return text;
        }

        string password = _options.Password;
        string login = Convert.ToBase64String(Encoding.UTF8.GetBytes(password));
        string plain = Convert.ToBase64String(Encoding.UTF8.GetBytes($"\0{_options.UserName}\0{password}"));
        return text.Replace(plain, "***", StringComparison.Ordinal)
            .Replace(login, "***", StringComparison.Ordinal)
            .Replace(password, "***", StringComparison.Ordinal);
    }
}
