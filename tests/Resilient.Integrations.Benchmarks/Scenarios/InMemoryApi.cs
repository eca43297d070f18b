using System.Net;
using System.Text;

namespace Resilient.Integrations.Benchmarks.Scenarios;

/// <summary>An upstream in memory: a 200 with a JSON body and the headers a real API sends (date, type, etag, cache, request id).</summary>
internal sealed class InMemoryApi(byte[] body, bool realisticHeaders = false) : HttpMessageHandler
{
    public static readonly byte[] SmallJson = Encoding.UTF8.GetBytes("""{"id":1,"name":"Ada Lovelace","email":"ada@example.com"}""");

    /// <summary>A JSON array of records, about <paramref name="bytes"/> long.</summary>
    public static byte[] JsonOf(int bytes)
    {
        var text = new StringBuilder(bytes + 128).Append('[');
        for (int i = 0; text.Length < bytes; i++)
        {
            text.Append(i == 0 ? "" : ",").Append("{\"id\":").Append(i).Append(",\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\",\"tags\":[\"a\",\"b\"],\"score\":12.5}");
        }

        return Encoding.UTF8.GetBytes(text.Append(']').ToString());
    }

    private static string Fresh(string text) => new(text.AsSpan());

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
        if (realisticHeaders)
        {
            // Fresh strings for every answer, as a socket handler reads them off the wire.
            response.Headers.TryAddWithoutValidation("Date", Fresh("Wed, 02 Dec 2026 12:00:00 GMT"));
            response.Headers.TryAddWithoutValidation("ETag", Fresh("\"33a64df551425fcc55e4d42a148795d9f25f89d4\""));
            response.Headers.TryAddWithoutValidation("Cache-Control", Fresh("private, max-age=0"));
            response.Headers.TryAddWithoutValidation(Fresh("X-Request-Id"), Fresh("req_01HZX4M2Q7V8K3N5P6R7S8T9UV"));
        }

        return Task.FromResult(response);
    }
}
