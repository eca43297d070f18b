using System.Globalization;
using System.Net;

namespace Resilient.Integrations.Fallback.Internal;

/// <summary>A kept successful response: status, headers without credentials or cookies, body and fetch time.</summary>
internal sealed class StoredResponse
{
    private static readonly HashSet<string> NotKept = new(StringComparer.OrdinalIgnoreCase)
    {
        "Set-Cookie", "Set-Cookie2", "Transfer-Encoding", "Connection", "Keep-Alive", "Content-Length", "Age", FallbackRequestExtensions.DegradedHeader,
        Failover.FailoverResponseExtensions.ServedByHeader, // which endpoint served is the live answer's, not a later copy's
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

    /// <summary>
    /// What the copy holds on the heap while it is kept, for the cache's size limit: its body, header names and values as
    /// the runtime lays them out (object headers, array and string overheads, 8-byte alignment), and what the cache spends
    /// on it (its entry, the key's 64-character hex hash, the freshness mark and its eviction hook). Measured against
    /// <c>GC.GetTotalMemory</c> with 100,000 copies (docs/benchmarks.md), so that <c>Fallback:SizeLimitBytes</c> bounds memory.
    /// </summary>
    public long Size => _size ??= Measure();

    // Cache entry (~176 B), its key (a 64-character string, 152 B), dictionary nodes of the cache and of the freshness
    // table, the eviction registration, its list and state: calibrated by the memory benchmark.
    internal const int EntryOverhead = 540;

    private long? _size;

    private long Measure()
    {
        long size = EntryOverhead + Aligned(72) + ArrayBytes(_body.Length, 1);
        foreach (var headers in (ReadOnlySpan<KeyValuePair<string, string[]>[]>)[_headers, _contentHeaders])
        {
            size += ArrayBytes(headers.Length, 16);
            foreach (var (name, values) in headers)
            {
                // A well-known header's name is the runtime's own interned string, shared by every response.
                size += (IsShared(name) ? 0 : StringBytes(name)) + ArrayBytes(values.Length, 8);
                foreach (var value in values)
                {
                    size += StringBytes(value);
                }
            }
        }

        return size;
    }

    /// <summary>
    /// Whether a header's name is the runtime's interned string. Asking the intern table takes a global lookup, so a name
    /// found there is remembered by reference: well-known names are the same few strings on every response.
    /// </summary>
    private static bool IsShared(string name)
    {
        if (SharedNames.ContainsKey(name))
        {
            return true;
        }

        if (string.IsInterned(name) is { } shared && ReferenceEquals(shared, name))
        {
            SharedNames.TryAdd(name, 0); // interned strings live as long as the process: the table stays as small as their set
            return true;
        }

        return false;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> SharedNames = new(ReferenceEqualityComparer.Instance);

    private static long Aligned(long bytes) => (bytes + 7) & ~7L;

    private static long ArrayBytes(int length, int elementSize) => Aligned(24 + ((long)length * elementSize));

    private static long StringBytes(string text) => Aligned(22 + (2L * text.Length));

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
            $"{degradation.Kind}; as-of={degradation.AsOf.ToString("r", CultureInfo.InvariantCulture)}{(degradation.Cause == DegradationCause.LiveCallSlow ? "; slow" : null)}");
        return response;
    }

    /// <summary>The copy as bytes for a shared tier: a format version first, so a copy another version wrote is a miss, not a wrong answer.</summary>
    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream(_body.Length + 512);
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(FormatVersion);
            writer.Write((int)Status);
            writer.Write(Version.ToString());
            writer.Write(FetchedAt.UtcTicks);
            Write(writer, _headers);
            Write(writer, _contentHeaders);
            writer.Write(_body.Length);
            writer.Write(_body);
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a copy <see cref="ToBytes"/> wrote.</summary>
    /// <exception cref="InvalidDataException">Another format, or bytes that are not a copy.</exception>
    public static StoredResponse FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        if (reader.ReadByte() != FormatVersion)
        {
            throw new InvalidDataException("a shared copy in an unknown format");
        }

        var status = (HttpStatusCode)reader.ReadInt32();
        var version = System.Version.Parse(reader.ReadString());
        var fetchedAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var headers = Read(reader);
        var contentHeaders = Read(reader);
        int length = reader.ReadInt32();
        var body = reader.ReadBytes(length);
        return body.Length == length ? new(status, version, headers, contentHeaders, body, fetchedAt) : throw new InvalidDataException("a shared copy cut short");
    }

    private const byte FormatVersion = 1;

    private static void Write(BinaryWriter writer, KeyValuePair<string, string[]>[] headers)
    {
        writer.Write(headers.Length);
        foreach (var (name, values) in headers)
        {
            writer.Write(name);
            writer.Write(values.Length);
            foreach (var value in values)
            {
                writer.Write(value);
            }
        }
    }

    private static KeyValuePair<string, string[]>[] Read(BinaryReader reader)
    {
        var headers = new KeyValuePair<string, string[]>[reader.ReadInt32()];
        for (int i = 0; i < headers.Length; i++)
        {
            string name = reader.ReadString();
            var values = new string[reader.ReadInt32()];
            for (int v = 0; v < values.Length; v++)
            {
                values[v] = reader.ReadString();
            }

            headers[i] = new(name, values);
        }

        return headers;
    }

    // Without LINQ: with many request shapes a copy is kept on many calls, not once a second.
    private static KeyValuePair<string, string[]>[] Keep(System.Net.Http.Headers.HttpHeaders headers, Func<string, bool> isSensitive)
    {
        var all = headers.NonValidated;
        if (all.Count == 0)
        {
            return [];
        }

        var kept = new KeyValuePair<string, string[]>[all.Count];
        int count = 0;
        foreach (var (name, values) in all)
        {
            if (!NotKept.Contains(name) && !isSensitive(name))
            {
                var copy = new string[values.Count];
                int i = 0;
                foreach (var value in values)
                {
                    copy[i++] = value;
                }

                kept[count++] = new(name, copy);
            }
        }

        return count == kept.Length ? kept : kept[..count];
    }
}
