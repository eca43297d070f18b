using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>Fails at start-up when an integration asks for shared copies and nothing can hold them.</summary>
internal sealed class SharedCopiesValidator(IEnumerable<IDistributedCache> caches) : IValidateOptions<ResilientIntegrationOptions>
{
    public ValidateOptionsResult Validate(string? name, ResilientIntegrationOptions options) =>
        options.Fallback.Shared && !caches.Any()
            ? ValidateOptionsResult.Fail(
                $"{Policies.Internal.ResilientIntegrationOptionsValidator.SectionName}:{name}:Fallback:Shared is true, but no IDistributedCache is registered: " +
                "add one (e.g. AddStackExchangeRedisCache from Microsoft.Extensions.Caching.StackExchangeRedis) or turn it off.")
            : ValidateOptionsResult.Success;
}
