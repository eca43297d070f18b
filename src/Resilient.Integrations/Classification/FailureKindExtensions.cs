namespace Resilient.Integrations.Classification;

/// <summary>Facts about <see cref="FailureKind"/> values that every policy shares.</summary>
public static class FailureKindExtensions
{
    /// <summary>Whether repeating the same call later may succeed when the server gave no instruction either way.</summary>
    /// <param name="kind">The failure kind.</param>
    /// <returns><see langword="true"/> for <see cref="FailureKind.Timeout"/>, <see cref="FailureKind.RateLimit"/> and <see cref="FailureKind.Unavailable"/>.</returns>
    public static bool IsTransient(this FailureKind kind) =>
        kind is FailureKind.Timeout or FailureKind.RateLimit or FailureKind.Unavailable;
}
