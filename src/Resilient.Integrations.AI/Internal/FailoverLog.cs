using Microsoft.Extensions.Logging;
using Resilient.Integrations.AI.Failover;

namespace Resilient.Integrations.AI.Internal;

/// <summary>What the failover logs: integration names and failure kinds only, never a prompt, an answer or a credential.</summary>
internal static partial class FailoverLog
{
    [LoggerMessage(80, LogLevel.Warning, "{Integration}: answered by {AnsweredBy} ({Step}): {Notice}")]
    public static partial void Answered(ILogger logger, string integration, string? answeredBy, ChatFailoverStep step, string notice);

    [LoggerMessage(81, LogLevel.Error, "{Integration}: every step of the failover failed ({Step}): {Notice}")]
    public static partial void Failed(ILogger logger, string integration, ChatFailoverStep step, string notice);
}
