using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Chaos;

/// <summary>
/// Staging chaos: injects failures of one kind at a rate, through Polly's chaos strategies, so that
/// fallbacks, alerts and queues can be watched working before production needs them. Off by default, and
/// active only in the environment named by <see cref="Environment"/>.
/// </summary>
public sealed class ChaosPolicy
{
    /// <summary>Gets or sets a value indicating whether chaos may run.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>
    /// Gets or sets the only host environment chaos runs in (compared with <c>IHostEnvironment.EnvironmentName</c>,
    /// or <c>DOTNET_ENVIRONMENT</c> / <c>ASPNETCORE_ENVIRONMENT</c> without a host), e.g. <c>Staging</c>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>; required when <see cref="Enabled"/> is set.</value>
    public string? Environment { get; set; }

    /// <summary>Gets or sets the kind of failure injected.</summary>
    /// <value>Defaults to <see cref="FailureKind.Unavailable"/>.</value>
    public FailureKind Kind { get; set; } = FailureKind.Unavailable;

    /// <summary>Gets or sets the share of attempts that get the failure instead of reaching the service.</summary>
    /// <value>Defaults to 0.1. Must be between 0 and 1.</value>
    public double InjectionRate { get; set; } = 0.1;
}
