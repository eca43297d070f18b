using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Policies.Internal;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>
/// Binds <c>ResilientIntegrations:&lt;name&gt;</c> from the host's <see cref="IConfiguration"/> when there is one,
/// and reloads the options when it changes. Apps without configuration simply keep the code's options.
/// </summary>
internal sealed class IntegrationConfiguration(string name, IServiceProvider services)
    : IConfigureNamedOptions<ResilientIntegrationOptions>, IOptionsChangeTokenSource<ResilientIntegrationOptions>, IDisposable
{
    internal static readonly IChangeToken NeverChanges = new CancellationChangeToken(CancellationToken.None);

    private SectionChangeWatcher? _watcher;

    public string Name => name;

    public void Configure(string? optionsName, ResilientIntegrationOptions options)
    {
        if (string.Equals(optionsName, name, StringComparison.Ordinal) &&
            services.GetService<IConfiguration>()?.GetSection($"{ResilientIntegrationOptionsValidator.SectionName}:{name}") is { } section &&
            section.Exists())
        {
            // A misspelt key or an empty value would otherwise be ignored and leave the default in force.
            var errors = ConfigurationChecks.Find(section, BindsStrictly, Lists, foreign: []);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(name, typeof(ResilientIntegrationOptions), errors);
            }

            // The binder adds to a list that already holds items; a list given in configuration replaces them
            // instead, so "ServeOn": ["Timeout"] means Timeout alone. SensitiveHeaders keeps adding: configuration
            // must never stop a secret from being redacted.
            ReplaceIfGiven(section.GetSection("Fallback:ServeOn"), options.Fallback.ServeOn, ParseKind);
            ReplaceIfGiven(section.GetSection("Fallback:CacheableMethods"), options.Fallback.CacheableMethods, (_, method) => method);
            ReplaceIfGiven(section.GetSection("Deferral:DeferOn"), options.Deferral.DeferOn, ParseKind);
            ReplaceIfGiven(section.GetSection("Writes:SafeToRepeatPaths"), options.Writes.SafeToRepeatPaths, (_, path) => path);
            Binding(optionsName, typeof(ResilientIntegrationOptions), () => section.Bind(options));
        }
    }

    /// <summary>
    /// The lists among the options: an empty value (as an empty JSON array or environment variable gives it) is an
    /// empty list, not a mistake. A list added to the options must be added here (a test checks).
    /// </summary>
    private static readonly string[] Lists = ["SensitiveHeaders", "Writes:SafeToRepeatPaths", "Fallback:ServeOn", "Fallback:CacheableMethods", "Deferral:DeferOn", "Failover:Endpoints"];

    private static bool BindsStrictly(IConfiguration probe)
    {
        try
        {
            probe.Bind(new ResilientIntegrationOptions(), o => o.ErrorOnUnknownConfiguration = true);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Binds, turning the binder's error for a value it cannot convert (which names the full key) into the
    /// same exception validation throws, so a bad reload keeps the last valid options like any other.
    /// </summary>
    internal static void Binding(string? optionsName, Type optionsType, Action bind)
    {
        try
        {
            bind();
        }
        catch (InvalidOperationException ex)
        {
            throw new OptionsValidationException(optionsName ?? Options.DefaultName, optionsType, [ex.Message]);
        }
    }

    public void Configure(ResilientIntegrationOptions options) => Configure(Options.DefaultName, options);

    /// <summary>
    /// Items (<c>ServeOn:0</c>, <c>ServeOn:1</c>) replace the list and are bound as usual; a plain value, as an
    /// environment variable gives it, is read as a comma-separated list, and an empty one empties the list.
    /// </summary>
    private static void ReplaceIfGiven<T>(IConfigurationSection section, IList<T> list, Func<string, string, T> parse)
    {
        if (section.GetChildren().Any())
        {
            list.Clear();
        }
        else if (section.Value is { } value)
        {
            list.Clear();
            foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                list.Add(parse(section.Path, item));
            }
        }
    }

    private static Classification.FailureKind ParseKind(string path, string item) =>
        Enum.TryParse<Classification.FailureKind>(item, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw new OptionsValidationException(path, typeof(ResilientIntegrationOptions), [$"{path} has '{item}', which is not a FailureKind."]);

    public IChangeToken GetChangeToken() => Watch(services, ref _watcher, $"{ResilientIntegrationOptionsValidator.SectionName}:{name}");

    public void Dispose() => _watcher?.Dispose();

    internal static IChangeToken Watch(IServiceProvider services, ref SectionChangeWatcher? watcher, string path)
    {
        if (watcher is null && services.GetService<IConfiguration>() is { } configuration)
        {
            var created = new SectionChangeWatcher(configuration, path);
            if (Interlocked.CompareExchange(ref watcher, created, null) is not null)
            {
                created.Dispose();
            }
        }

        return watcher?.Token ?? NeverChanges;
    }
}

/// <summary>Binds <c>ResilientIntegrations:Alerts</c> the same way.</summary>
internal sealed class AlertConfiguration(IServiceProvider services) : IConfigureOptions<AlertOptions>, IOptionsChangeTokenSource<AlertOptions>, IDisposable
{
    private SectionChangeWatcher? _watcher;

    public string Name => Options.DefaultName;

    public void Configure(AlertOptions options)
    {
        if (services.GetService<IConfiguration>()?.GetSection(AlertOptionsValidator.SectionName) is { } section && section.Exists())
        {
            // Webhook is not an AlertOptions key: the webhook sink's options are named ResilientIntegrations:Alerts:Webhook.
            var errors = ConfigurationChecks.Find(section, BindsStrictly, lists: [], foreign: ["Webhook"]);
            if (errors.Count > 0)
            {
                throw new OptionsValidationException(Options.DefaultName, typeof(AlertOptions), errors);
            }

            IntegrationConfiguration.Binding(Options.DefaultName, typeof(AlertOptions), () => section.Bind(options));
        }
    }

    private static bool BindsStrictly(IConfiguration probe)
    {
        try
        {
            probe.Bind(new AlertOptions(), o => o.ErrorOnUnknownConfiguration = true);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    public IChangeToken GetChangeToken() => IntegrationConfiguration.Watch(services, ref _watcher, AlertOptionsValidator.SectionName);

    public void Dispose() => _watcher?.Dispose();
}
