using Resilient.Integrations.Internal;

namespace Resilient.Integrations.Policies;

/// <summary>Per-request declaration of whether a request may be sent more than once.</summary>
public static class WriteRequestExtensions
{
    /// <summary>
    /// Declares that the request may (or, with <see langword="false"/>, may never) be sent more than once, whatever its
    /// method and the integration's <see cref="WritePolicy"/>. With <see langword="false"/> even a GET is tried once.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <param name="safe">Whether repeating the request cannot duplicate anything.</param>
    /// <returns>The request.</returns>
    public static HttpRequestMessage SafeToRepeat(this HttpRequestMessage request, bool safe = true)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequestMarks.Of(request).SafeToRepeat = safe;
        return request;
    }
}
