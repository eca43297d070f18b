using System.Globalization;
using System.Net;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>A kept successful response: status, headers without credentials or cookies, body and fetch time.</summary>
internal sealed class StoredResponse
{
    private static readonly HashSet<string> NotKept = new(StringComparer.OrdinalIgnoreCase)
    {
        "Set-Cookie", "Set-Cookie2", "Transfer-Encoding", "Connection", "Keep-Alive", "Content-Length", "Age", FallbackRequestExtensions.DegradedHeader,
    };

    private readonly KeyValuePair<string, string[]>[] _headers;
    private readonly KeyValuePair<string, string[]>[] _contentHeaders;
    private readonly byte[] _body;

    private StoredResponse(HttpStatusCode status, Version version, KeyValuePair<string, string[]>[] headers, KeyValuePair<string, string[]>[] contentHeaders, byte[] body, DateTimeOffset fetchedAt)
    {
        Status = status;
        Version = version;
        _headers = headers;
        _contentHeaders = contentHeaders;
        _body = body;
        FetchedAt = fetchedAt;
    }

    public HttpStatusCode Status { get; }

    public Version Version { get; }

    public DateTimeOffset FetchedAt { get; }

    /// <summary>An estimate of the memory taken, for the cache's size limit.</summary>
    public long Size => _body.Length + 256 + _headers.Concat(_contentHeaders).Sum(h => h.Key.Length + h.Value.Sum(v => v.Length));

    /// <summary>Takes ownership of <paramref name="body"/>: the caller must not change it afterwards.</summary>
    public static StoredResponse From(HttpResponseMessage response, byte[] body, DateTimeOffset fetchedAt, Func<string, bool> isSensitive) =>
        new(response.StatusCode, response.Version, Keep(response.Headers, isSensitive), Keep(response.Content.Headers, isSensitive), body, fetchedAt);

    public HttpResponseMessage ToResponse(HttpRequestMessage request, Degradation degradation)
    {
        var content = new ByteArrayContent(_body);
        foreach (var (name, values) in _contentHeaders)
        {
            content.Headers.TryAddWithoutValidation(name, values);
        }

        var response = new HttpResponseMessage(Status) { Version = Version, Content = content, RequestMessage = request };
        foreach (var (name, values) in _headers)
        {
            response.Headers.TryAddWithoutValidation(name, values);
        }

        response.Headers.Age = TimeSpan.FromSeconds(Math.Floor(degradation.Age.TotalSeconds));
        response.Headers.TryAddWithoutValidation(
            FallbackRequestExtensions.DegradedHeader,
            $"{degradation.Kind}; as-of={degradation.AsOf.ToString("r", CultureInfo.InvariantCulture)}");
        return response;
    }

    private static KeyValuePair<string, string[]>[] Keep(System.Net.Http.Headers.HttpHeaders headers, Func<string, bool> isSensitive) =>
        [.. headers.NonValidated
            .Where(h => !NotKept.Contains(h.Key) && !isSensitive(h.Key))
            .Select(h => new KeyValuePair<string, string[]>(h.Key, [.. h.Value]))];
}
