using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Health;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>The services every integration shares; registering them twice is harmless.</summary>
internal static class CoreServices
{
    public static void Add(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(IntegrationRegistry)))
        {
            return;
        }

        services.AddHttpClient();
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IntegrationMetrics>();
        services.TryAddSingleton<IntegrationRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Http.IHttpMessageHandlerBuilderFilter, SingleResilienceLayer.Filter>());
        services.TryAddSingleton<RecentAlerts>();
        services.TryAddSingleton<AlertDispatcher>();
        services.TryAddSingleton<IAlertDispatcher>(sp => sp.GetRequiredService<AlertDispatcher>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAlertSink, LoggingAlertSink>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResilientIntegrationOptions>, ResilientIntegrationOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResilientIntegrationOptions>, Fallback.Internal.SharedCopiesValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertOptions>, AlertOptionsValidator>());
        services.AddSingleton<AlertConfiguration>();
        services.AddSingleton<IConfigureOptions<AlertOptions>>(sp => sp.GetRequiredService<AlertConfiguration>());
        services.AddSingleton<IOptionsChangeTokenSource<AlertOptions>>(sp => sp.GetRequiredService<AlertConfiguration>());
        services.AddOptions<AlertOptions>().ValidateOnStart();

        // A reload that fails validation keeps the last valid options instead of failing every reader.
        services.TryAddSingleton(sp => new LastGoodOptions<ResilientIntegrationOptions>(
            sp.GetService<ILoggerFactory>(), name => $"{ResilientIntegrationOptionsValidator.SectionName}:{name}"));
        services.AddTransient<IOptionsFactory<ResilientIntegrationOptions>, LastGoodOptionsFactory<ResilientIntegrationOptions>>();
        services.TryAddSingleton(sp => new LastGoodOptions<AlertOptions>(sp.GetService<ILoggerFactory>(), _ => AlertOptionsValidator.SectionName));
        services.AddTransient<IOptionsFactory<AlertOptions>, LastGoodOptionsFactory<AlertOptions>>();
        services.TryAddSingleton<HealthMonitor>();
        services.TryAddSingleton<IIntegrationHealthMonitor>(sp => sp.GetRequiredService<HealthMonitor>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, Deferral.Internal.DeferredWriteReplayer>());
        services.TryAddSingleton<Deferral.IDeferredWrites, Deferral.Internal.DeferredWrites>();
        services.TryAddSingleton<Deferral.IDeferredWriteAdmin, Deferral.Internal.DeferredWriteAdmin>();
        services.TryAddSingleton<Status.IResilienceStatus, Status.Internal.ResilienceStatus>();

        // Polly's options for every pipeline made through DI (the HTTP ones), and the delegate pipelines too.
        services.AddOptions<Polly.Telemetry.TelemetryOptions>()
            .PostConfigure<IntegrationRegistry>((telemetry, registry) => telemetry.MeteringEnrichers.Add(new Telemetry.Internal.FailureKindEnricher(registry)));
    }
}
