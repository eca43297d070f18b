using Microsoft.Extensions.Options;
using MimeKit;

namespace Resilient.Integrations.Smtp.Internal;

/// <summary>Checks the e-mail sink's options at start-up; each error names its configuration key, never a value.</summary>
internal sealed class SmtpAlertSinkOptionsValidator : IValidateOptions<SmtpAlertSinkOptions>
{
    private const string Section = "ResilientIntegrations:Alerts:Smtp";

    public ValidateOptionsResult Validate(string? name, SmtpAlertSinkOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            errors.Add($"{Section}:Host is required.");
        }

        if (options.Port is < 1 or > 65535)
        {
            errors.Add($"{Section}:Port must be between 1 and 65535.");
        }

        if (options.UserName is not null && string.IsNullOrEmpty(options.Password))
        {
            errors.Add($"{Section}:Password is required with {Section}:UserName.");
        }

        if (options.UserName is null && options.Password is not null)
        {
            errors.Add($"{Section}:UserName is required with {Section}:Password.");
        }

        if (!IsMailbox(options.From))
        {
            errors.Add($"{Section}:From must be one mailbox address, e.g. \"Alerts <alerts@example.com>\".");
        }

        if (options.To.Count == 0 || !options.To.All(IsMailbox))
        {
            errors.Add($"{Section}:To must list at least one recipient, each a mailbox address.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsMailbox(string? address) =>
        !string.IsNullOrWhiteSpace(address) && MailboxAddress.TryParse(address, out var mailbox) && mailbox.Address.Contains('@', StringComparison.Ordinal);
}
