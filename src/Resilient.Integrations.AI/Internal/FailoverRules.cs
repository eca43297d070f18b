using System.Collections.Frozen;
using Resilient.Integrations.AI.Failover;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.AI.Internal;

/// <summary>When a call moves on, taken from the options once at build time so later changes to them do nothing.</summary>
internal sealed class FailoverRules(ChatFailoverOptions options)
{
    private readonly FrozenSet<FailureKind> _kinds = options.FailOverOn.ToFrozenSet();
    private readonly bool _openCircuit = options.FailOverOnOpenCircuit;
    private readonly string? _contextLength = options.ContextLengthExceededTo;
    private readonly string? _contentFilter = options.ContentFilteredTo;

    /// <summary>Whether a failure moves the call on to the next secondary.</summary>
    public bool MovesOn(FailureClassification failure) =>
        _kinds.Contains(failure.Kind) || (_openCircuit && ChatRejections.IsOpenCircuit(failure));

    /// <summary>The secondary a rejection is routed to, if one is named for it.</summary>
    public string? RouteFor(FailureClassification failure) =>
        _contextLength is not null && ChatRejections.IsContextLengthExceeded(failure) ? _contextLength
        : _contentFilter is not null && ChatRejections.IsContentFiltered(failure) ? _contentFilter
        : null;
}
