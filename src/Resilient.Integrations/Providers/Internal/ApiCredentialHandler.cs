using Microsoft.Extensions.Options;
using Resilient.Integrations.Policies;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Puts the profile's credential (and the headers the API requires) on requests to the API's own origin that carry
/// none of their own. Inside the resilience handler, so every attempt gets it and it never enters a kept copy or a
/// queued write; a request to any other host never gets it.
/// </summary>
internal sealed class ApiCredentialHandler(
    ApiProfile profile, ApiProfileOptions profileOptions, Uri endpoint, string integration, IOptionsMonitor<ResilientIntegrationOptions> options)
    : DelegatingHandler
{
    private readonly string? _credential = profileOptions.AccessToken is { } token ? profile.KeyValue(token, profileOptions) : null;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } address && (SameOrigin(address, endpoint) || (options.Get(integration).BaseAddress is { } configured && SameOrigin(address, configured))))
        {
            if (_credential is not null && !request.Headers.Contains("Authorization") && !HasTokenParameter(address.Query))
            {
                request.Headers.TryAddWithoutValidation("Authorization", _credential);
            }

            foreach (var (name, value) in profile.RequiredHeaders)
            {
                if (!request.Headers.Contains(name))
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
        }

        return base.SendAsync(request, cancellationToken);
    }

    // Meta and Slack also take the token as a parameter; a request that brings its own is left alone. Read in place:
    // this runs on every request.
    private static bool HasTokenParameter(string query) =>
        HasParameter(query, "access_token=") || HasParameter(query, "token=");

    private static bool HasParameter(string query, string prefix)
    {
        for (int at = query.IndexOf(prefix, StringComparison.Ordinal); at >= 0; at = query.IndexOf(prefix, at + 1, StringComparison.Ordinal))
        {
            if (at == 0 || query[at - 1] is '?' or '&')
            {
                return true;
            }
        }

        return false;
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        a.IsAbsoluteUri && b.IsAbsoluteUri &&
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) &&
        string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) &&
        a.Port == b.Port;
}
