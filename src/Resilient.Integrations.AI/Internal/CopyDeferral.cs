namespace Resilient.Integrations.AI.Internal;

/// <summary>
/// Set by the failover around one step of its ladder: the resilience layer of that step then leaves its last good
/// answer for later (names it here) and throws, so that every secondary is tried before any copy is served.
/// </summary>
internal sealed class CopyDeferral
{
    private static readonly AsyncLocal<CopyDeferral?> Ambient = new();

    /// <summary>Gets the deferral of the step under way, if a failover runs it.</summary>
    public static CopyDeferral? Current => Ambient.Value;

    /// <summary>Gets the layer whose copy was left, once one was.</summary>
    public ResilientChatClient? Layer { get; private set; }

    /// <summary>Gets the request's key in that layer's copies.</summary>
    public string? Key { get; private set; }

    /// <summary>Runs a step's call with this deferral in force; the ambient value is back as it was afterwards.</summary>
    public static async Task<T> RunAsync<T>(CopyDeferral deferral, Func<Task<T>> call)
    {
        // An async method restores the ambient value on return: the deferral reaches only this step's call.
        Ambient.Value = deferral;
        return await call().ConfigureAwait(false);
    }

    public void Leave(ResilientChatClient layer, string key)
    {
        // The outermost layer of the step reports last; its copy is the one to serve.
        Layer = layer;
        Key = key;
    }
}
