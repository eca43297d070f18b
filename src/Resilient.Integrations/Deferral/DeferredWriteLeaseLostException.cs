namespace Resilient.Integrations.Deferral;

/// <summary>A replay change was refused because its lease expired or another process took the queue over.</summary>
public sealed class DeferredWriteLeaseLostException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="integration">The integration whose queue the lease covered.</param>
    /// <param name="token">The lost lease's fencing token.</param>
    public DeferredWriteLeaseLostException(string integration, long token)
        : base($"The replay lease of '{integration}' (token {token}) expired or was taken over by another instance; the change was not made.")
    {
        Integration = integration;
        Token = token;
    }

    /// <summary>Gets the integration whose queue the lease covered.</summary>
    /// <value>Set by the constructor.</value>
    public string Integration { get; }

    /// <summary>Gets the lost lease's fencing token.</summary>
    /// <value>Set by the constructor.</value>
    public long Token { get; }
}
