using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Policies;
using Resilient.Integrations.Tests.Support;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

using static Resilient.Integrations.Tests.Support.ConfiguredIntegration;

namespace Resilient.Integrations.Tests.DependencyInjection;

/// <summary>Configuration mistakes the binder lets through: unknown keys, empty values, and bad reloads.</summary>
public sealed class ConfigurationMistakesTests
{
    [Fact]
    public void Validate_MisspeltKey_FailsAtStartupNamingTheFullKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:crm:TotalTimout"] = "00:00:30" });

        Assert.Contains("ResilientIntegrations:crm:TotalTimout is not a known option", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MisspeltNestedKeys_NameTheFullPathAndAnUnknownSectionOnce()
    {
        var ex = StartupFailure(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:CircuitBreaker:FailureRaito"] = "0.3",
            ["ResilientIntegrations:crm:Fallbak:ServeOn:0"] = "Timeout",
            ["ResilientIntegrations:crm:Fallbak:ServeOn:1"] = "Auth",
            ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "2",
        });

        Assert.Contains("ResilientIntegrations:crm:CircuitBreaker:FailureRaito is not a known option", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ResilientIntegrations:crm:Fallbak is not a known option", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Fallbak:ServeOn", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("MaxRetries", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Failures.Count());
    }

    [Fact]
    public void Validate_MisspeltAlertKey_FailsAtStartupNamingTheKey()
    {
        var ex = StartupFailure(new Dictionary<string, string?> { ["ResilientIntegrations:Alerts:Coldown"] = "00:10:00" });

        Assert.Contains("ResilientIntegrations:Alerts:Coldown is not a known option", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_AlertsWebhookSection_IsNotReportedAsUnknown()
    {
        // The webhook sink's own options are named ResilientIntegrations:Alerts:Webhook (an app binds them itself).
        StartsUp(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:Alerts:Cooldown"] = "00:10:00",
            ["ResilientIntegrations:Alerts:Webhook:Url"] = "https://hooks.example.com/x",
        });
    }

    [Fact]
    public void Validate_EveryOptionKeyInAnyCase_IsKnown()
    {
        // Keys without values (the binder leaves the defaults): only their names are checked, and every option's must pass.
        var settings = OptionKeys(typeof(ResilientIntegrationOptions), "")
            .Select(k => k.Path)
            .Concat(["Fallback:ServeOn:0", "Deferral:DeferOn:0"])
            .ToDictionary(k => "resilientintegrations:crm:" + k.ToLowerInvariant(), _ => (string?)null);
        settings["resilientintegrations:crm:writes:idempotencykeyheader"] = "Idempotency-Key"; // a string is set to null
        foreach (var (path, _) in OptionKeys(typeof(AlertOptions), ""))
        {
            settings["ResilientIntegrations:Alerts:" + path] = null;
        }

        Assert.Contains("resilientintegrations:crm:health:latencythreshold", settings.Keys);
        StartsUp(settings);
    }

    [Fact]
    public void Validate_ListsAndNestedSectionsAsUsual_Pass()
    {
        using var provider = WithConfiguration(new Dictionary<string, string?>
        {
            ["ResilientIntegrations:crm:TotalTimeout"] = "00:01:00",
            ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "3",
            ["ResilientIntegrations:crm:Unavailable:Alert"] = "Critical",
            ["ResilientIntegrations:crm:Fallback:ServeOn:0"] = "Timeout",
            ["ResilientIntegrations:crm:Fallback:CacheableMethods"] = "GET,POST",
            ["ResilientIntegrations:crm:Deferral:DeferOn"] = "", // empties the list
            ["ResilientIntegrations:crm:SensitiveHeaders:0"] = "X-Tenant-Secret",
            ["ResilientIntegrations:crm:Chaos:Environment"] = "Staging",
        });

        provider.GetRequiredService<IStartupValidator>().Validate();
        var options = provider.GetRequiredService<IOptionsMonitor<ResilientIntegrationOptions>>().Get("crm");
        Assert.Equal([FailureKind.Timeout], options.Fallback.ServeOn);
        Assert.Equal(["GET", "POST"], options.Fallback.CacheableMethods);
        Assert.Empty(options.Deferral.DeferOn);
        Assert.Contains("X-Tenant-Secret", options.SensitiveHeaders);
    }

    [Theory]
    [InlineData("ResilientIntegrations:crm:BaseAddress", "")]
    [InlineData("ResilientIntegrations:crm:BaseAddress", "   ")]
    [InlineData("ResilientIntegrations:crm:TotalTimeout", "")]
    [InlineData("ResilientIntegrations:crm:Unavailable:MaxRetries", "")]
    [InlineData("ResilientIntegrations:crm:Chaos:Environment", "")]
    [InlineData("ResilientIntegrations:Alerts:Cooldown", "")]
    public void Validate_EmptyValue_FailsAtStartupNamingTheKey(string key, string value)
    {
        var ex = StartupFailure(new Dictionary<string, string?> { [key] = value });

        Assert.Contains($"{key} is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EmptyBaseAddressOverCodeDefault_FailsAtStartup()
    {
        // The binder skips an empty value: without the check the code's address would silently stay.
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ResilientIntegrations:crm:BaseAddress"] = "" }).Build());
        services.AddResilientIntegration("crm", o => o.BaseAddress = new Uri("https://crm.example.com/"));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("ResilientIntegrations:crm:BaseAddress is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EmptyValueForEveryList_MeansAnEmptyList()
    {
        // An empty JSON array arrives as an empty value; every list among the options must accept it.
        var lists = OptionKeys(typeof(ResilientIntegrationOptions), "").Where(k => k.IsList).Select(k => k.Path).ToList();
        Assert.Contains("Fallback:ServeOn", lists);

        var settings = lists.ToDictionary(k => "ResilientIntegrations:crm:" + k, _ => (string?)"");
        StartsUp(settings);

        // Each list is empty then, but SensitiveHeaders, which only adds: configuration never un-redacts a credential.
        var options = OptionsFrom(settings);
        Assert.Empty(options.Fallback.ServeOn);
        Assert.Empty(options.Fallback.CacheableMethods);
        Assert.Empty(options.Deferral.DeferOn);
        Assert.Empty(options.Writes.SafeToRepeatPaths);
        Assert.Contains("Authorization", options.SensitiveHeaders);
    }

    [Fact]
    public async Task Configuration_ReloadWithUnknownKey_KeepsLastValidOptionsAndLogsTheKey()
    {
        var settings = new Dictionary<string, string?> { ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "1" };
        await using var h = IntegrationHarness.Create(configuration: settings);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        var config = (IConfigurationRoot)h.Provider.GetRequiredService<IConfiguration>();
        await h.GetAsync();
        Assert.Equal(2, h.UpstreamAttempts());

        config["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "0";
        config["ResilientIntegrations:crm:Unavailable:MaxRetrys"] = "5";
        config.Reload();
        var (_, error) = await h.GetAsync();

        Assert.IsType<IntegrationFailureException>(error);
        Assert.Equal(4, h.UpstreamAttempts()); // still MaxRetries 1
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Level == LogLevel.Error &&
            r.Message.Contains("ResilientIntegrations:crm:Unavailable:MaxRetrys is not a known option", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Configuration_ReloadWithBadValueThenFixed_KeepsLastValidThenApplies()
    {
        var settings = new Dictionary<string, string?> { ["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "1" };
        await using var h = IntegrationHarness.Create(configuration: settings);
        h.Server.Given(Request.Create().WithPath("/call").UsingGet()).RespondWith(Response.Create().WithStatusCode(503));
        var config = (IConfigurationRoot)h.Provider.GetRequiredService<IConfiguration>();
        await h.GetAsync();

        config["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "lots";
        config.Reload();
        await h.GetAsync();
        Assert.Equal(4, h.UpstreamAttempts());
        Assert.Contains(h.Logs.GetSnapshot(), r => r.Level == LogLevel.Error &&
            r.Message.Contains("ResilientIntegrations:crm:Unavailable:MaxRetries", StringComparison.Ordinal));

        config["ResilientIntegrations:crm:Unavailable:MaxRetries"] = "0";
        config.Reload();
        await h.GetAsync();
        Assert.Equal(5, h.UpstreamAttempts());
    }

    /// <summary>Every key the binder reads from <paramref name="type"/>: settable values, lists and nested objects.</summary>
    private static IEnumerable<(string Path, bool IsList)> OptionKeys(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var t = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            string path = prefix + property.Name;
            if (typeof(Delegate).IsAssignableFrom(t) || property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            if (t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t))
            {
                yield return (path, true);
            }
            else if (t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(TimeSpan) || t == typeof(Uri) || t == typeof(decimal))
            {
                if (property.SetMethod?.IsPublic == true)
                {
                    yield return (path, false);
                }
            }
            else
            {
                yield return (path, false);
                foreach (var nested in OptionKeys(t, path + ":"))
                {
                    yield return nested;
                }
            }
        }
    }
}
