using Microsoft.Extensions.AI;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.AI.Failover;

/// <summary>Options of the failover added by <c>ChatClientBuilder.UseFailover</c>: the secondaries, in order, and when a call moves on to them.</summary>
public sealed class ChatFailoverOptions
{
    private readonly List<ChatFailoverSecondary> _secondaries = [];

    /// <summary>Gets the secondaries, in the order they are tried after the primary.</summary>
    /// <value>Empty until <see cref="AddSecondary"/> is called; at least one is required.</value>
    public IReadOnlyList<ChatFailoverSecondary> Secondaries => _secondaries;

    /// <summary>
    /// Gets the failure kinds that move a call on to the next secondary. Each arrives after the failing client's own
    /// policies ran: a rate limit past its retries and budget, a timeout after its retry.
    /// </summary>
    /// <value>
    /// Defaults to <see cref="FailureKind.Unavailable"/>, <see cref="FailureKind.Timeout"/>, <see cref="FailureKind.RateLimit"/>
    /// and <see cref="FailureKind.QuotaExhausted"/>. <see cref="FailureKind.Rejected"/> does not belong here: the same request
    /// fails elsewhere too; route the rejections another model can take with <see cref="ContextLengthExceededTo"/>
    /// and <see cref="ContentFilteredTo"/>.
    /// </value>
    public ISet<FailureKind> FailOverOn { get; } = new HashSet<FailureKind>
    {
        FailureKind.Unavailable, FailureKind.Timeout, FailureKind.RateLimit, FailureKind.QuotaExhausted,
    };

    /// <summary>Gets or sets a value indicating whether a call that meets an open circuit moves on, whatever <see cref="FailOverOn"/> holds.</summary>
    /// <value>Defaults to <see langword="true"/>: the open circuit answers at once, without reaching the provider.</value>
    public bool FailOverOnOpenCircuit { get; set; } = true;

    /// <summary>
    /// Gets or sets the integration name of the secondary that takes a request rejected because it is longer than the
    /// model's context window (OpenAI and Azure <c>context_length_exceeded</c>, Anthropic "prompt is too long"), such
    /// as a model with a larger window. The request goes to that secondary alone.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: such a rejection is thrown. Must name one of <see cref="Secondaries"/>.</value>
    public string? ContextLengthExceededTo { get; set; }

    /// <summary>
    /// Gets or sets the integration name of the secondary that takes a request (or an answer) the provider's content
    /// filter rejected (OpenAI and Azure <c>content_filter</c>). The request goes to that secondary alone.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: such a rejection is thrown. Must name one of <see cref="Secondaries"/>.</value>
    public string? ContentFilteredTo { get; set; }

    /// <summary>
    /// Adds a secondary, tried after the primary and the secondaries added before it. The client runs under the
    /// policies of the integration <paramref name="integrationName"/> (its own retries, breaker, health, alerts and
    /// profile), unless it already runs under them (<c>UseResilience(integrationName)</c>).
    /// </summary>
    /// <param name="integrationName">The secondary's integration, as given to <c>AddResilientIntegration</c>; it names the secondary in answers.</param>
    /// <param name="client">The secondary's chat client: an SDK on a plain HttpClient, its own retries off.</param>
    /// <param name="configure">Sets the resilience layer put around <paramref name="client"/>; not used when the client already has one.</param>
    /// <returns>These options.</returns>
    public ChatFailoverOptions AddSecondary(string integrationName, IChatClient client, Action<ResilientChatClientOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(integrationName);
        ArgumentNullException.ThrowIfNull(client);
        var settings = new ResilientChatClientOptions();
        configure?.Invoke(settings);
        _secondaries.Add(new ChatFailoverSecondary(integrationName, client, settings));
        return this;
    }
}
