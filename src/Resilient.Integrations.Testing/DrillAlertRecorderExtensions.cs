using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Wires what a drill needs to observe.</summary>
public static class DrillAlertRecorderExtensions
{
    /// <summary>Adds a <see cref="DrillAlertRecorder"/> alert sink, so <see cref="DrillRunner"/> can check that alerts fired.</summary>
    /// <param name="builder">The integration's builder.</param>
    /// <returns>The builder.</returns>
    public static IResilientIntegrationBuilder AddDrillAlertRecorder(this IResilientIntegrationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<DrillAlertRecorder>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertSink, DrillAlertRecorder>(sp => sp.GetRequiredService<DrillAlertRecorder>()));
        return builder;
    }
}
