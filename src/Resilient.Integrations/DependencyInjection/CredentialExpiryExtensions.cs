using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Credentials;
using Resilient.Integrations.Credentials.Internal;
using Resilient.Integrations.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The credential-expiry watch: a Warning days before an integration's credential expires, Critical when it does.</summary>
public static class CredentialExpiryExtensions
{
    /// <summary>
    /// Watches when the integration's credential expires: the <c>exp</c> claim of a JWT (given, or sent as the bearer
    /// token), an API's own expiry header, a known date, or a profile's token-inspection probe. A Warning is raised
    /// <see cref="CredentialExpiryOptions.WarnBefore"/> ahead and health turns Yellow; a Critical follows at the expiry.
    /// The credential's text never reaches a log or an alert. Calling it again adds to the options.
    /// </summary>
    /// <param name="builder">The integration's builder.</param>
    /// <param name="configure">Sets the sources and the warning time.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddCredentialExpiryWatch(this IResilientIntegrationBuilder builder, Action<CredentialExpiryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string name = builder.Name;
        var options = builder.Services.AddOptions<CredentialExpiryOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        var registration = new CredentialExpiryRegistration(name);
        if (builder.Services.Any(d => d.ServiceType == typeof(CredentialExpiryRegistration) && Equals(d.ImplementationInstance, registration)))
        {
            return builder; // the handler and validation are there already; only the options grew
        }

        options.Validate(o => o.WarnBefore > TimeSpan.Zero, $"Credential-expiry watch of '{name}': CredentialExpiryOptions.WarnBefore must be positive.")
            .Validate(o => string.IsNullOrEmpty(o.ExpiryHeader) || !string.IsNullOrWhiteSpace(o.ExpiryHeader), $"Credential-expiry watch of '{name}': CredentialExpiryOptions.ExpiryHeader must not be blank.")
            .ValidateOnStart();
        builder.Services.AddSingleton(registration);
        builder.Services.TryAddSingleton<CredentialExpiryWatches>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<Hosting.IHostedService, CredentialExpiryWatches>(sp => sp.GetRequiredService<CredentialExpiryWatches>()));
        builder.HttpClientBuilder.AddHttpMessageHandler(sp => new CredentialExpiryHandler(sp.GetRequiredService<CredentialExpiryWatches>().Get(name)));
        return builder;
    }
}
