namespace Resilient.Integrations.Fallback;

/// <summary>Why a kept copy was served instead of a live answer.</summary>
public enum DegradationCause
{
    /// <summary>The live call failed (see <see cref="Degradation.Failure"/>).</summary>
    LiveCallFailed,

    /// <summary>
    /// The live call had not answered within <see cref="FallbackPolicy.SoftTimeout"/>; it goes on in the background and
    /// refreshes the copy when it lands. <see cref="Degradation.Kind"/> is then <see cref="Classification.FailureKind.Timeout"/>.
    /// </summary>
    LiveCallSlow,
}
