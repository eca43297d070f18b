using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>
/// Keeps the integration's pipeline the only resilience layer on its HttpClient. A handler from
/// <c>ConfigureHttpClientDefaults(h => h.AddStandardResilienceHandler())</c>, as Aspire's service defaults add to every
/// client, would cut long LLM calls at its own attempt timeout and retry what the integration already gave up on
/// (an Auth or QuotaExhausted failure included): it is taken off the integration's client, and the removal logged.
/// </summary>
internal static class SingleResilienceLayer
{
    private static readonly ConditionalWeakTable<DelegatingHandler, object> Own = [];
    private static readonly object Marker = new();

    /// <summary>Marks the resilience handler just added to <paramref name="builder"/> as the integration's own.</summary>
    public static void MarkOwnHandler(IHttpClientBuilder builder) =>
        builder.ConfigureAdditionalHttpMessageHandlers((handlers, _) =>
        {
            for (int i = handlers.Count - 1; i >= 0; i--)
            {
                if (handlers[i] is ResilienceHandler own)
                {
                    Own.AddOrUpdate(own, Marker);
                    return;
                }
            }
        });

    /// <summary>Runs after every configuration of a client, so it sees handlers added before and after the integration's.</summary>
    internal sealed class Filter(IEnumerable<IntegrationName> integrations, ILoggerFactory? loggers = null) : IHttpMessageHandlerBuilderFilter
    {
        private readonly HashSet<string> _names = integrations.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        private readonly ILogger _logger = (ILogger?)loggers?.CreateLogger("Resilient.Integrations") ?? NullLogger.Instance;

        public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
        {
            next(builder);
            if (builder.Name is not { } name || !_names.Contains(name))
            {
                return;
            }

            var handlers = builder.AdditionalHandlers;
            for (int i = handlers.Count - 1; i >= 0; i--)
            {
                if (handlers[i] is ResilienceHandler other && !Own.TryGetValue(other, out _))
                {
                    handlers.RemoveAt(i);
                    other.Dispose();
                    Log.ExtraResilienceHandlerRemoved(_logger, name, other.GetType().Name);
                }
            }
        };
    }
}
