using System.Net.Http.Headers;
using System.Runtime.CompilerServices;

namespace Resilient.Integrations.Internal;

/// <summary>
/// Whether a message carries headers, without creating its header collection: HttpClient creates it on first
/// access, and a message nobody gave a header (an in-memory answer, a request without defaults) need not pay for one.
/// </summary>
internal static class MessageHeaders
{
    private static bool s_hidden;

    public static bool Any(HttpResponseMessage response) =>
        (Volatile.Read(ref s_hidden) || Created(response)) && response.Headers.NonValidated.Count > 0;

    public static bool Any(HttpRequestMessage request) =>
        (Volatile.Read(ref s_hidden) || Created(request)) && request.Headers.NonValidated.Count > 0;

    private static bool Created(HttpResponseMessage response)
    {
        try
        {
            return ResponseHeaders(response) is not null;
        }
        catch (MissingFieldException)
        {
            return Hidden(); // another runtime's layout: read the headers, as before
        }
    }

    private static bool Created(HttpRequestMessage request)
    {
        try
        {
            return RequestHeaders(request) is not null;
        }
        catch (MissingFieldException)
        {
            return Hidden();
        }
    }

    private static bool Hidden()
    {
        Volatile.Write(ref s_hidden, true);
        return true;
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_headers")]
    private static extern ref HttpResponseHeaders? ResponseHeaders(HttpResponseMessage response);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_headers")]
    private static extern ref HttpRequestHeaders? RequestHeaders(HttpRequestMessage request);
}
