using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI.Internal;

/// <summary>A secondary as the failover runs it: its integration's name and its client under that integration's resilience layer.</summary>
internal sealed record FailoverSecondaryClient(string Name, IChatClient Client);
