using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Resilient.Integrations.DependencyInjection;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Tests.Support;

/// <summary>The harness's WireMock address, read while the container is still being built: it doubles as a sink's receiver.</summary>
internal static class HarnessUrl
{
    public static string Of(IResilientIntegrationBuilder builder)
    {
        using var sp = builder.Services.BuildServiceProvider();
        var options = sp.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get(builder.Name);
        return options.BaseAddress!.ToString().TrimEnd('/');
    }
}
