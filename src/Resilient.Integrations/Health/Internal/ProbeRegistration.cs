namespace Resilient.Integrations.Health.Internal;

/// <summary>A probe registered for an integration, with its schedule.</summary>
internal sealed record ProbeRegistration(string Integration, Func<IServiceProvider, IHealthProbe> Create, HealthProbeOptions Options);

/// <summary>Marks an integration's name in the container, so the health-check bridge can list every integration.</summary>
internal sealed record IntegrationName(string Name);
