using System.Globalization;
using System.Net.Sockets;
using Npgsql;

namespace Resilient.Integrations.Tests.Support;

public sealed class PostgreSqlServerTests
{
    [Fact]
    public async Task CreateDatabaseAsync_SharedServer_FreshDatabaseAnswersSelect1()
    {
        var server = await PostgreSqlServer.RequireAsync();

        var connectionString = await server.CreateDatabaseAsync();

        Assert.Equal(1, await ScalarAsync<int>(connectionString, "select 1"));
        Assert.StartsWith("resilient_test_", await ScalarAsync<string>(connectionString, "select current_database()"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateDatabaseAsync_CalledTwice_GivesTwoDatabases()
    {
        var server = await PostgreSqlServer.RequireAsync();

        var first = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync()).Database;
        var second = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync()).Database;

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task RequireAsync_SharedServer_FsyncOnAndAtLeast200Connections()
    {
        var server = await PostgreSqlServer.RequireAsync();

        Assert.Equal("on", await ScalarAsync<string>(server.ConnectionString, "show fsync"));
        Assert.True(int.Parse(await ScalarAsync<string>(server.ConnectionString, "show max_connections"), CultureInfo.InvariantCulture) >= 200);
    }

    [Fact]
    public async Task StopAsync_ThenStartAsync_RefusedThenAnswersOnSamePortWithItsData()
    {
        await using var server = await PostgreSqlServer.StartPrivateAsync();
        var connectionString = await server.CreateDatabaseAsync();
        Assert.Equal(42, await ScalarAsync<int>(connectionString, "create table kept (id int); insert into kept values (42) returning id"));
        var port = server.Port;

        await server.StopAsync();
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(() => ScalarAsync<int>(connectionString, "select 1"));
        Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(refused.InnerException).SocketErrorCode);

        await server.StartAsync();
        Assert.Equal(port, server.Port);
        Assert.Equal(42, await ScalarAsync<int>(connectionString, "select id from kept"));
    }

    [Fact]
    public async Task StopAsync_SharedServer_Throws()
    {
        var server = await PostgreSqlServer.RequireAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(server.StopAsync);
    }

    // Unpooled: a pooled connection would outlive the private server's restart.
    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        var unpooled = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(unpooled);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }
}
