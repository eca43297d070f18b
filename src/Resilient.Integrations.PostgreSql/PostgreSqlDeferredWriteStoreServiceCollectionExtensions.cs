using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.PostgreSql;
using Resilient.Integrations.PostgreSql.Internal;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PostgreSQL store for deferred writes.</summary>
public static class PostgreSqlDeferredWriteStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PostgreSqlDeferredWriteStore"/> as the <see cref="IDeferredWriteStore"/>: on
    /// <see cref="PostgreSqlDeferredWriteStoreOptions.ConnectionString"/> when set, else on the <see cref="NpgsqlDataSource"/>
    /// registered in DI. Its tables are created (or checked) when the host starts.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the connection string, schema and lease duration.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddPostgreSqlDeferredWriteStore(this IServiceCollection services, Action<PostgreSqlDeferredWriteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PostgreSqlDeferredWriteStoreOptions();
        configure(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => options.ConnectionString is not null
            ? new PostgreSqlDeferredWriteStore(options, sp.GetService<TimeProvider>())
            : new PostgreSqlDeferredWriteStore(
                options,
                sp.GetService<NpgsqlDataSource>() ?? throw new InvalidOperationException(
                    "PostgreSqlDeferredWriteStoreOptions.ConnectionString is not set and no NpgsqlDataSource is registered: set one of the two."),
                sp.GetService<TimeProvider>()));
        services.Replace(ServiceDescriptor.Singleton<IDeferredWriteStore>(sp => sp.GetRequiredService<PostgreSqlDeferredWriteStore>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgreSqlSchemaInitializer>());
        return services;
    }
}
