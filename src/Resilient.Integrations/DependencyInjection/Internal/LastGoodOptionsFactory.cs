using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.DependencyInjection.Internal;

/// <summary>
/// Creates options as <see cref="OptionsFactory{TOptions}"/> does, except after a reload: options that fail
/// (a bad value, an unknown or empty key) then leave the last valid ones of that name in force, and the
/// errors are logged. <see cref="OptionsMonitor{TOptions}"/> alone would throw from every reader (every new
/// HttpClient, every call) until the configuration is fixed. The first creation still throws: that is the
/// start-up failure <c>ValidateOnStart</c> reports.
/// </summary>
internal sealed class LastGoodOptionsFactory<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
    IEnumerable<IConfigureOptions<TOptions>> setups,
    IEnumerable<IPostConfigureOptions<TOptions>> postConfigures,
    IEnumerable<IValidateOptions<TOptions>> validations,
    LastGoodOptions<TOptions> lastGood) : IOptionsFactory<TOptions>
    where TOptions : class
{
    private readonly OptionsFactory<TOptions> _inner = new(setups, postConfigures, validations);

    public TOptions Create(string name)
    {
        try
        {
            return lastGood.Keep(name, _inner.Create(name));
        }
        catch (OptionsValidationException ex) when (lastGood.TryGet(name, ex, out var kept))
        {
            return kept;
        }
    }
}

/// <summary>The last valid options of each name; shared by the (transient) factories.</summary>
internal sealed class LastGoodOptions<TOptions>(ILoggerFactory? loggerFactory, Func<string, string> sectionOf)
    where TOptions : class
{
    private readonly ConcurrentDictionary<string, TOptions> _valid = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory?.CreateLogger("Resilient.Integrations.Configuration") ?? NullLogger.Instance;

    public TOptions Keep(string name, TOptions options) => _valid[name] = options;

    public bool TryGet(string name, OptionsValidationException error, [NotNullWhen(true)] out TOptions? kept)
    {
        if (!_valid.TryGetValue(name, out kept))
        {
            return false;
        }

        Log.ReloadRejected(_logger, sectionOf(name), string.Join(" ", error.Failures));
        return true;
    }
}
