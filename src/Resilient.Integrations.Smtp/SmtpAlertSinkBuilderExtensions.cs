using Microsoft.Extensions.Options;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Smtp;
using Resilient.Integrations.Smtp.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the e-mail alert sink.</summary>
public static class SmtpAlertSinkBuilderExtensions
{
    /// <summary>
    /// Adds an alert sink that e-mails alerts over SMTP (MailKit). Sinks are shared by all integrations: calling this
    /// for several integrations configures the one sink. The options are checked at start-up.
    /// </summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the server, credentials, sender, recipients and minimum severity.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddSmtpAlertSink(this IResilientIntegrationBuilder builder, Action<SmtpAlertSinkOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<SmtpAlertSinkOptions>().Configure(configure).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SmtpAlertSinkOptions>, SmtpAlertSinkOptionsValidator>();
        return builder.AddAlertSink<SmtpAlertSink>();
    }
}
