using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Sqlite;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the durable SQLite store for deferred writes.</summary>
public static class SqliteDeferredWriteStoreServiceCollectionExtensions
{
    /// <summary>Registers <see cref="SqliteDeferredWriteStore"/> as the <see cref="IDeferredWriteStore"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the database path and batch size.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddSqliteDeferredWriteStore(this IServiceCollection services, Action<SqliteDeferredWriteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new SqliteDeferredWriteStoreOptions();
        configure(options);
        services.TryAddSingleton(TimeProvider.System);
        services.Replace(ServiceDescriptor.Singleton<IDeferredWriteStore>(sp => new SqliteDeferredWriteStore(options, sp.GetRequiredService<TimeProvider>())));
        return services;
    }
}
