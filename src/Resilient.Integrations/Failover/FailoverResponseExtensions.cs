namespace Resilient.Integrations.Failover;

/// <summary>Tells which endpoint served a response.</summary>
public static class FailoverResponseExtensions
{
    internal static readonly HttpRequestOptionsKey<ServedEndpoint> ServedKey = new("ri.served-by");

    /// <summary>The header a response from a secondary carries, for consumers that only see HTTP: the base address that served it.</summary>
    public const string ServedByHeader = "X-Resilient-Served-By";

    /// <summary>Tells whether a live response came from a secondary endpoint rather than the primary.</summary>
    /// <param name="response">The response.</param>
    /// <returns>The endpoint that served it and why, or <see langword="null"/> when the primary answered (or failover is off).</returns>
    public static ServedEndpoint? GetServedEndpoint(this HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.RequestMessage is { } request && request.Options.TryGetValue(ServedKey, out var served) ? served : null;
    }
}
