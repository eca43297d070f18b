using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilient.Integrations.Deferral;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Protects deferred writes at rest: their bodies and replayed headers are stored only as the protector's output,
/// whatever the store. Off until one of these is called; the last call wins.
/// </summary>
public static class DeferredWriteProtectionServiceCollectionExtensions
{
    /// <summary>Protects stored deferred writes with a protector instance.</summary>
    /// <param name="services">The services.</param>
    /// <param name="protector">The protector.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeferredWriteProtection(this IServiceCollection services, IDeferredWriteProtector protector)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(protector);
        return services.Replace(ServiceDescriptor.Singleton(protector));
    }

    /// <summary>Protects stored deferred writes with a protector resolved from the container.</summary>
    /// <typeparam name="TProtector">The protector type.</typeparam>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeferredWriteProtection<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TProtector>(this IServiceCollection services)
        where TProtector : class, IDeferredWriteProtector
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.Replace(ServiceDescriptor.Singleton<IDeferredWriteProtector, TProtector>());
    }

    /// <summary>
    /// Protects stored deferred writes with ASP.NET Core Data Protection (<see cref="DataProtectionDeferredWriteProtector"/>).
    /// The app registers Data Protection itself (<c>services.AddDataProtection()</c>, done by ASP.NET Core hosts) and
    /// must persist its key ring, or a restart loses the keys and the queued writes with them.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddDeferredWriteDataProtection(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.Replace(ServiceDescriptor.Singleton<IDeferredWriteProtector>(sp => new DataProtectionDeferredWriteProtector(
            sp.GetService<IDataProtectionProvider>() ?? throw new InvalidOperationException(
                "AddDeferredWriteDataProtection needs ASP.NET Core Data Protection: call services.AddDataProtection() (package Microsoft.AspNetCore.DataProtection) and persist its keys."))));
    }
}
