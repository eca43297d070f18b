using Microsoft.Extensions.AI;

namespace Resilient.Integrations.AI.Failover;

/// <summary>One secondary of a chat failover: its integration and its client.</summary>
public sealed class ChatFailoverSecondary
{
    internal ChatFailoverSecondary(string integrationName, IChatClient client, ResilientChatClientOptions settings)
    {
        IntegrationName = integrationName;
        Client = client;
        Settings = settings;
    }

    /// <summary>Gets the integration whose policies the secondary runs under.</summary>
    /// <value>Set by <see cref="ChatFailoverOptions.AddSecondary"/>.</value>
    public string IntegrationName { get; }

    /// <summary>Gets the secondary's client, as given.</summary>
    /// <value>Set by <see cref="ChatFailoverOptions.AddSecondary"/>.</value>
    public IChatClient Client { get; }

    internal ResilientChatClientOptions Settings { get; }
}
