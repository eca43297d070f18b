using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI.Failover;

/// <summary>Reads which step of the failover ladder produced an answer or a failure.</summary>
public static class ChatFailoverExtensions
{
    /// <summary>The key of the mark in <see cref="AdditionalPropertiesDictionary"/> and in <see cref="Exception.Data"/>.</summary>
    public const string PropertyName = "Resilient.Integrations.Failover";

    /// <summary>Gets which step answered and why; <see langword="null"/> when the primary answered live.</summary>
    /// <param name="response">The answer.</param>
    /// <returns>The failover, or <see langword="null"/>.</returns>
    public static ChatFailover? GetFailover(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.AdditionalProperties?.TryGetValue(PropertyName, out var value) == true ? value as ChatFailover : null;
    }

    /// <summary>Gets which step streamed this update and why; <see langword="null"/> when the primary streamed it live.</summary>
    /// <param name="update">The update.</param>
    /// <returns>The failover, or <see langword="null"/>.</returns>
    public static ChatFailover? GetFailover(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return update.AdditionalProperties?.TryGetValue(PropertyName, out var value) == true ? value as ChatFailover : null;
    }

    /// <summary>Gets the steps a failed call went through (<see cref="ChatFailoverStep.Failure"/>); <see langword="null"/> when no failover ran.</summary>
    /// <param name="failure">The failure the caller got: the primary's.</param>
    /// <returns>The failover, or <see langword="null"/>.</returns>
    public static ChatFailover? GetFailover(this IntegrationFailureException failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return failure.Data[PropertyName] as ChatFailover;
    }
}
