using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilient.Integrations;
using Resilient.Integrations.AI;
using Resilient.Integrations.AI.Failover;
using Resilient.Integrations.AI.Internal;
using Resilient.Integrations.Health;

namespace Microsoft.Extensions.AI;

/// <summary>Adds failover to other providers to a chat client pipeline.</summary>
public static class ChatFailoverBuilderExtensions
{
    /// <summary>
    /// Moves a call the primary cannot answer on to the secondaries, in order: the primary is the rest of the
    /// pipeline, which must run under <c>UseResilience(integrationName)</c>; each secondary runs under its own
    /// integration's policies. The ladder is: the primary, each secondary that is not Red, the last good answer
    /// (of the first step that keeps one; only after every secondary failed), then the primary's
    /// <see cref="IntegrationFailureException"/>. A stream moves on only until its first update. The caller's
    /// cancellation never moves a call on. An answer that did not come live from the primary says who produced
    /// it and why (<see cref="ChatFailoverExtensions.GetFailover(ChatResponse)"/>).
    /// </summary>
    /// <param name="builder">The chat client builder; call <c>UseResilience</c> on it after this.</param>
    /// <param name="configure">Adds the secondaries and sets when a call moves on.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="OptionsValidationException">
    /// At build: no secondary, a secondary added twice or under the primary's name, an integration that is not registered,
    /// a route that names no secondary, or a primary without <c>UseResilience</c>. The message names the option.
    /// </exception>
    public static ChatClientBuilder UseFailover(this ChatClientBuilder builder, Action<ChatFailoverOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new ChatFailoverOptions();
        configure(options);
        var secondaries = options.Secondaries.ToArray(); // later additions change nothing
        var rules = new FailoverRules(options);

        return builder.Use((inner, services) =>
        {
            var failures = new List<string>();
            var primary = inner.GetService(typeof(ResilientChatClient)) as ResilientChatClient;
            if (primary is null)
            {
                failures.Add("UseFailover must be put over UseResilience(integrationName): the primary needs its own integration.");
            }

            var clients = Secondaries(secondaries, primary?.Integration.Name, services, failures);
            CheckRoute(nameof(ChatFailoverOptions.ContextLengthExceededTo), options.ContextLengthExceededTo, secondaries, failures);
            CheckRoute(nameof(ChatFailoverOptions.ContentFilteredTo), options.ContentFilteredTo, secondaries, failures);
            if (failures.Count > 0)
            {
                throw new OptionsValidationException(primary?.Integration.Name ?? Options.Options.DefaultName, typeof(ChatFailoverOptions), failures);
            }

            var logger = services.GetService<ILoggerFactory>()?.CreateLogger("Resilient.Integrations.AI.Failover") ?? NullLogger.Instance;
            return new ChatFailoverClient(
                inner, primary!.Integration.Name, clients, rules, services.GetService<IIntegrationHealthMonitor>(), logger, new FailoverMetrics(services.GetService<IMeterFactory>()));
        });
    }

    private static FailoverSecondaryClient[] Secondaries(ChatFailoverSecondary[] secondaries, string? primaryName, IServiceProvider services, List<string> failures)
    {
        if (secondaries.Length == 0)
        {
            failures.Add("ChatFailoverOptions.Secondaries is empty: add at least one with AddSecondary(integrationName, client).");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var clients = new List<FailoverSecondaryClient>(secondaries.Length);
        foreach (var secondary in secondaries)
        {
            var name = secondary.IntegrationName;
            if (string.Equals(name, primaryName, StringComparison.Ordinal))
            {
                failures.Add($"ChatFailoverOptions.Secondaries: '{name}' is the primary's integration; a secondary must be another.");
                continue;
            }

            if (!seen.Add(name))
            {
                failures.Add($"ChatFailoverOptions.Secondaries: '{name}' is added more than once.");
                continue;
            }

            if (services.GetKeyedService<IResilientIntegration>(name) is not { } integration)
            {
                failures.Add($"ChatFailoverOptions.Secondaries: no resilient integration named '{name}' is registered; call services.AddResilientIntegration(\"{name}\") first.");
                continue;
            }

            // A client already under a resilience layer keeps it; it must be this integration's, or health and names would disagree.
            var client = secondary.Client;
            if (client.GetService(typeof(ResilientChatClient)) is ResilientChatClient layer)
            {
                if (!string.Equals(layer.Integration.Name, name, StringComparison.Ordinal))
                {
                    failures.Add($"ChatFailoverOptions.Secondaries: the client added as '{name}' already runs under UseResilience(\"{layer.Integration.Name}\").");
                    continue;
                }
            }
            else
            {
                client = new ResilientChatClient(client, integration, secondary.Settings, services.GetService<TimeProvider>() ?? TimeProvider.System);
            }

            clients.Add(new FailoverSecondaryClient(name, client));
        }

        return [.. clients];
    }

    private static void CheckRoute(string option, string? route, ChatFailoverSecondary[] secondaries, List<string> failures)
    {
        if (route is not null && !secondaries.Any(s => string.Equals(s.IntegrationName, route, StringComparison.Ordinal)))
        {
            failures.Add($"ChatFailoverOptions.{option}: '{route}' is not one of the secondaries; add it with AddSecondary first.");
        }
    }
}
