namespace Resilient.Integrations.Internal;

/// <summary>
/// What a request was marked with (by the caller's extension methods, a probe or the replayer), held in one entry of
/// its options: every call reads them all with one look-up, and a request marked with nothing costs that look-up alone.
/// </summary>
internal sealed class RequestMarks
{
    // A short name: a name is hashed whole on every look-up.
    private static readonly HttpRequestOptionsKey<RequestMarks> Key = new("ri.marks");

    /// <summary>Gets or sets a value indicating whether the request is a health probe's.</summary>
    public bool IsProbe { get; set; }

    /// <summary>Gets or sets a value indicating whether the request is kept out of the fallback.</summary>
    public bool NoCopy { get; set; }

    /// <summary>Gets or sets the caller's fallback key, which opts any method in.</summary>
    public string? CacheKey { get; set; }

    /// <summary>Gets or sets the caller's fallback partition.</summary>
    public string? Partition { get; set; }

    /// <summary>Gets or sets whether the write may be queued, whatever the policy; <see langword="null"/>: as the policy says.</summary>
    public bool? Defer { get; set; }

    /// <summary>Gets or sets a value indicating whether the request is the replay of a queued write.</summary>
    public bool IsReplay { get; set; }

    /// <summary>Gets or sets whether the request may be sent more than once; <see langword="null"/>: as its method and the policy say.</summary>
    public bool? SafeToRepeat { get; set; }

    /// <summary>The request's marks, made on first use.</summary>
    public static RequestMarks Of(HttpRequestMessage request)
    {
        if (!request.Options.TryGetValue(Key, out var marks) || marks is null)
        {
            marks = new RequestMarks();
            request.Options.Set(Key, marks);
        }

        return marks;
    }

    /// <summary>The request's marks, or <see langword="null"/> when it carries none.</summary>
    public static RequestMarks? Find(HttpRequestMessage? request) =>
        request is not null && request.Options.TryGetValue(Key, out var marks) ? marks : null;
}
