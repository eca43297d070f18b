using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI;

/// <summary>Options of the resilience middleware added by <c>ChatClientBuilder.UseResilience</c>.</summary>
public sealed class ResilientChatClientOptions
{
    /// <summary>
    /// Gets or sets a value indicating whether a failed request is answered with the last good answer to the same
    /// request (same messages and options), marked as stale. Opt in only where an older answer is still useful,
    /// such as a report summary; never for a conversation.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool ServeLastGoodAnswer { get; set; }

    /// <summary>
    /// Gets or sets how a request is named for <see cref="ServeLastGoodAnswer"/>. Include the caller's partition
    /// (tenant, user) so one caller never receives another's answer.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: a hash of the messages and options (model, temperature, tools and the rest).</value>
    public Func<IReadOnlyList<ChatMessage>, ChatOptions?, string>? RequestKey { get; set; }

    /// <summary>
    /// Gets or sets how long a stream may go without an update, once its first update arrived, before it is
    /// abandoned as a <see cref="Classification.FailureKind.Timeout"/>: reported and alerted per the Timeout policy
    /// and thrown as <see cref="IntegrationFailureException"/>, never replayed. Time the caller spends on an update
    /// does not count. Reasoning models can pause long between updates; raise it for them.
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> turns it off, leaving only the caller's token.
    /// </summary>
    /// <value>Defaults to 3 minutes, the provider profiles' attempt timeout. Must be positive and at most 49 days, or infinite.</value>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(3);
}
