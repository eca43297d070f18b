using Resilient.Integrations.Fallback;
using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI;

/// <summary>Reads the staleness mark the resilience middleware puts on an answer served from the last good one.</summary>
public static class ChatResponseDegradationExtensions
{
    /// <summary>The <see cref="AdditionalPropertiesDictionary"/> key of the mark.</summary>
    public const string PropertyName = "Resilient.Integrations.Degradation";

    /// <summary>Gets how stale a served answer is, with its notice; <see langword="null"/> for a live answer.</summary>
    /// <param name="response">The answer.</param>
    /// <returns>The degradation, or <see langword="null"/>.</returns>
    public static Degradation? GetDegradation(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.AdditionalProperties?.TryGetValue(PropertyName, out var value) == true ? value as Degradation : null;
    }

    /// <summary>Gets how stale a served streaming update is, with its notice; <see langword="null"/> for a live update.</summary>
    /// <param name="update">The update.</param>
    /// <returns>The degradation, or <see langword="null"/>.</returns>
    public static Degradation? GetDegradation(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.AdditionalProperties?.TryGetValue(PropertyName, out var value) == true ? value as Degradation : null;
    }
}
