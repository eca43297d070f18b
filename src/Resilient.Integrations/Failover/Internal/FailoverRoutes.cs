namespace Resilient.Integrations.Failover.Internal;

/// <summary>
/// Where a request under the primary base address goes on each endpoint: the secondary's base with the rest of the
/// path and the query kept. Base addresses are compared as written, with a trailing slash.
/// </summary>
internal sealed class FailoverRoutes
{
    private readonly string? _primary;
    private readonly Uri? _primaryAddress;
    private readonly string[] _secondaries;
    private readonly Uri[] _secondaryAddresses;

    public FailoverRoutes(Uri? primary, IEnumerable<Uri> secondaries)
    {
        _primary = primary is null ? null : Normalize(primary);
        _primaryAddress = _primary is null ? null : new Uri(_primary);
        _secondaries = [.. secondaries.Select(Normalize)];
        _secondaryAddresses = [.. _secondaries.Select(s => new Uri(s))];
    }

    /// <summary>A secondary's base address, as the answer names it.</summary>
    public Uri SecondaryAddress(int index) => _secondaryAddresses[index];

    /// <summary>The primary's base address, as the answer names it.</summary>
    public Uri PrimaryAddress(string primary) => _primaryAddress ?? new Uri(primary);

    /// <summary>Gets how many secondaries there are.</summary>
    public int Secondaries => _secondaries.Length;

    /// <summary>The circuit key (and label) of a secondary: its base address.</summary>
    public string SecondaryBase(int index) => _secondaries[index];

    public static bool IsBaseAddress(Uri? uri) =>
        uri is { IsAbsoluteUri: true } && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0;

    public static bool SameBase(Uri a, Uri b) =>
        a.IsAbsoluteUri && b.IsAbsoluteUri && string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);

    /// <summary>The primary base the request is under, or <see langword="null"/> when it is not (it then never fails over).</summary>
    public string? PrimaryOf(Uri request)
    {
        if (_primary is null)
        {
            return Policies.Internal.KeyedCircuitStrategy.HostKey(request) + "/";
        }

        string uri = request.AbsoluteUri;
        return uri.StartsWith(_primary, StringComparison.Ordinal) || (uri.Length == _primary.Length - 1 && _primary.StartsWith(uri, StringComparison.Ordinal))
            ? _primary
            : null;
    }

    /// <summary>The request's address on a secondary.</summary>
    public Uri Rewrite(Uri request, string primary, int secondary)
    {
        string uri = request.AbsoluteUri;
        return new Uri(_secondaries[secondary] + (uri.Length > primary.Length ? uri[primary.Length..] : string.Empty));
    }

    private static string Normalize(Uri uri)
    {
        string path = uri.GetLeftPart(UriPartial.Path);
        return path.EndsWith('/') ? path : path + "/";
    }
}
