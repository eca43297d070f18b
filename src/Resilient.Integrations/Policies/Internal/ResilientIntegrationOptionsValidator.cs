using System.Globalization;
using Microsoft.Extensions.Options;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Policies.Internal;

/// <summary>Validates integration options; each message names the configuration key at fault.</summary>
internal sealed class ResilientIntegrationOptionsValidator : IValidateOptions<ResilientIntegrationOptions>
{
    public const string SectionName = "ResilientIntegrations";

    private static readonly TimeSpan HalfSecond = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(24);

    private static readonly FailureKind[] Kinds =
    [
        FailureKind.Timeout, FailureKind.Auth, FailureKind.RateLimit, FailureKind.QuotaExhausted,
        FailureKind.BadResponse, FailureKind.Unavailable, FailureKind.Rejected, FailureKind.Unknown,
    ];

    public ValidateOptionsResult Validate(string? name, ResilientIntegrationOptions options)
    {
        var errors = new List<string>();
        string prefix = $"{SectionName}:{name}:";

        void Check(bool valid, string key, object? value, string rule)
        {
            if (!valid)
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{prefix}{key} {rule} (was {value ?? "null"})."));
            }
        }

        Check(options.TotalTimeout >= MinTimeout && options.TotalTimeout <= MaxTimeout, "TotalTimeout", options.TotalTimeout, "must be between 10 milliseconds and 24 hours");
        Check(options.AttemptTimeout >= MinTimeout && options.AttemptTimeout <= MaxTimeout, "AttemptTimeout", options.AttemptTimeout, "must be between 10 milliseconds and 24 hours");
        Check(options.AttemptTimeout <= options.TotalTimeout, "AttemptTimeout", options.AttemptTimeout, $"must not exceed {prefix}TotalTimeout ({options.TotalTimeout})");
        Check(options.BaseAddress is null || options.BaseAddress.IsAbsoluteUri, "BaseAddress", options.BaseAddress, "must be an absolute address");
        // With failover the base address names the primary in logs, alerts and the status page.
        Check(
            options.Failover.Endpoints.Count == 0 || options.BaseAddress is not { IsAbsoluteUri: true, UserInfo.Length: > 0 },
            "BaseAddress", "an address with user information, withheld", $"must not carry user information when {prefix}Failover:Endpoints are set: send credentials in a header");
        Check(options.MaxResponseBodyBytes >= 1024, "MaxResponseBodyBytes", options.MaxResponseBodyBytes, "must be at least 1024");
        Check(options.RawResponseLogBytes is >= 0 and <= 65536, "RawResponseLogBytes", options.RawResponseLogBytes, "must be between 0 and 65536");

        foreach (var kind in Kinds)
        {
            var policy = options.PolicyFor(kind);
            if (policy is null)
            {
                errors.Add($"{prefix}{kind} must be set.");
                continue;
            }

            Check(policy.MaxRetries is >= 0 and <= 100, $"{kind}:MaxRetries", policy.MaxRetries, "must be between 0 and 100");
            Check(policy.BaseDelay >= TimeSpan.Zero, $"{kind}:BaseDelay", policy.BaseDelay, "must not be negative");
            Check(policy.MaxDelay > TimeSpan.Zero, $"{kind}:MaxDelay", policy.MaxDelay, "must be positive");
            Check(policy.MaxDelay >= policy.BaseDelay, $"{kind}:MaxDelay", policy.MaxDelay, $"must not be below {prefix}{kind}:BaseDelay ({policy.BaseDelay})");
        }

        var breaker = options.CircuitBreaker;
        Check(breaker.FailureRatio is > 0 and <= 1, "CircuitBreaker:FailureRatio", breaker.FailureRatio, "must be greater than 0 and at most 1");
        Check(breaker.MinimumThroughput >= 2, "CircuitBreaker:MinimumThroughput", breaker.MinimumThroughput, "must be at least 2");
        Check(breaker.SamplingDuration >= HalfSecond && breaker.SamplingDuration <= MaxTimeout, "CircuitBreaker:SamplingDuration", breaker.SamplingDuration, "must be between 0.5 seconds and 24 hours");
        Check(breaker.BreakDuration >= HalfSecond && breaker.BreakDuration <= MaxTimeout, "CircuitBreaker:BreakDuration", breaker.BreakDuration, "must be between 0.5 seconds and 24 hours");

        Check(breaker.MaxHosts is >= 1 and <= 100_000, "CircuitBreaker:MaxHosts", breaker.MaxHosts, "must be between 1 and 100000");

        var failover = options.Failover;
        Check(failover is not null, "Failover", null, "must be set");
        for (int i = 0; failover is not null && i < failover.Endpoints.Count; i++)
        {
            var endpoint = failover.Endpoints[i];
            Check(Failover.Internal.FailoverRoutes.IsBaseAddress(endpoint), $"Failover:Endpoints:{i}", endpoint,
                "must be an absolute http or https address without user information, query or fragment");
            Check(endpoint is null || !failover.Endpoints.Take(i).Any(e => Failover.Internal.FailoverRoutes.SameBase(e, endpoint)) &&
                (options.BaseAddress is null || !Failover.Internal.FailoverRoutes.SameBase(options.BaseAddress, endpoint)),
                $"Failover:Endpoints:{i}", endpoint, $"must differ from {prefix}BaseAddress and from the endpoints before it");
        }

        var budget = options.RetryBudget;
        Check(budget.RetryRatio is >= 0 and <= 1, "RetryBudget:RetryRatio", budget.RetryRatio, "must be between 0 and 1");
        Check(budget.MinRetries >= 0, "RetryBudget:MinRetries", budget.MinRetries, "must not be negative");
        Check(budget.Window >= TimeSpan.FromSeconds(1), "RetryBudget:Window", budget.Window, "must be at least 1 second");

        Check(options.Pacing.MaxWait >= TimeSpan.Zero, "Pacing:MaxWait", options.Pacing.MaxWait, "must not be negative");

        var health = options.Health;
        Check(health.ConfirmAfter is >= 1 and <= 100, "Health:ConfirmAfter", health.ConfirmAfter, "must be between 1 and 100");
        Check(health.RedAfterTimeouts is >= 1 and <= 100, "Health:RedAfterTimeouts", health.RedAfterTimeouts, "must be between 1 and 100");
        Check(health.StaleAfterIntervals is >= 1 and <= 100, "Health:StaleAfterIntervals", health.StaleAfterIntervals, "must be between 1 and 100");
        Check(health.LatencyThreshold > TimeSpan.Zero, "Health:LatencyThreshold", health.LatencyThreshold, "must be positive");

        var chaos = options.Chaos;
        Check(chaos.InjectionRate is >= 0 and <= 1, "Chaos:InjectionRate", chaos.InjectionRate, "must be between 0 and 1");
        Check(!chaos.Enabled || !string.IsNullOrWhiteSpace(chaos.Environment), "Chaos:Environment", chaos.Environment,
            "must name the one environment chaos may run in (e.g. Staging) when Chaos:Enabled is true");
        Check(chaos.Kind != FailureKind.None, "Chaos:Kind", chaos.Kind, "must name a failure kind");

        var deferral = options.Deferral;
        Check(deferral.MaxAttempts is >= 1 and <= 1000, "Deferral:MaxAttempts", deferral.MaxAttempts, "must be between 1 and 1000");
        Check(deferral.RetryDelay > TimeSpan.Zero, "Deferral:RetryDelay", deferral.RetryDelay, "must be positive");
        Check(deferral.MaxRetryDelay >= deferral.RetryDelay, "Deferral:MaxRetryDelay", deferral.MaxRetryDelay, $"must not be below {prefix}Deferral:RetryDelay ({deferral.RetryDelay})");
        Check(deferral.ReplayInterval >= TimeSpan.FromSeconds(1), "Deferral:ReplayInterval", deferral.ReplayInterval, "must be at least 1 second");
        Check(deferral.BacklogYellowThreshold >= 1, "Deferral:BacklogYellowThreshold", deferral.BacklogYellowThreshold, "must be at least 1");
        Check(deferral.ReplayConcurrency is >= 1 and <= 64, "Deferral:ReplayConcurrency", deferral.ReplayConcurrency, "must be between 1 and 64");
        Check(deferral.DeadLetterWarningAge >= TimeSpan.FromMinutes(1) && deferral.DeadLetterWarningAge <= TimeSpan.FromDays(365),
            "Deferral:DeadLetterWarningAge", deferral.DeadLetterWarningAge, "must be between 1 minute and 365 days");

        var writes = options.Writes;
        Check(writes is not null, "Writes", null, "must be set");
        if (writes is not null)
        {
            Check(IsHeaderName(writes.IdempotencyKeyHeader), "Writes:IdempotencyKeyHeader", writes.IdempotencyKeyHeader, "must be a valid header name");
            Check(writes.SafeToRepeatPaths.All(p => !string.IsNullOrWhiteSpace(p)), "Writes:SafeToRepeatPaths", "(an empty entry)", "must not contain an empty path");
        }

        var fallback = options.Fallback;
        Check(fallback.MaxStaleness > TimeSpan.Zero, "Fallback:MaxStaleness", fallback.MaxStaleness, "must be positive");
        Check(fallback.RefreshInterval >= TimeSpan.Zero, "Fallback:RefreshInterval", fallback.RefreshInterval, "must not be negative");
        Check(fallback.RefreshInterval < fallback.MaxStaleness, "Fallback:RefreshInterval", fallback.RefreshInterval, $"must be below {prefix}Fallback:MaxStaleness ({fallback.MaxStaleness}), or a copy could expire before it is refreshed");
        Check(fallback.MaxEntryBytes is >= 1 and <= 64 * 1024 * 1024, "Fallback:MaxEntryBytes", fallback.MaxEntryBytes, "must be between 1 and 67108864");
        Check(fallback.MaxCopiesPerSecond > 0, "Fallback:MaxCopiesPerSecond", fallback.MaxCopiesPerSecond, "must be positive");
        Check(fallback.SizeLimitBytes >= fallback.MaxEntryBytes, "Fallback:SizeLimitBytes", fallback.SizeLimitBytes, $"must not be below {prefix}Fallback:MaxEntryBytes ({fallback.MaxEntryBytes})");
        Check(fallback.SharedTimeout >= TimeSpan.FromMilliseconds(1) && fallback.SharedTimeout <= TimeSpan.FromSeconds(10),
            "Fallback:SharedTimeout", fallback.SharedTimeout, "must be between 1 millisecond and 10 seconds");
        if (fallback.SoftTimeout is { } softTimeout)
        {
            Check(softTimeout > TimeSpan.Zero, "Fallback:SoftTimeout", softTimeout, "must be positive");
            Check(softTimeout < options.TotalTimeout, "Fallback:SoftTimeout", softTimeout, $"must be below {prefix}TotalTimeout ({options.TotalTimeout}), or no call could ever be past it and still running");
        }

        Check(fallback.MaxBackgroundRefreshes is >= 1 and <= 1000, "Fallback:MaxBackgroundRefreshes", fallback.MaxBackgroundRefreshes, "must be between 1 and 1000");
        Check(!fallback.ServeOn.Contains(FailureKind.Rejected), "Fallback:ServeOn", "Rejected", "must not contain Rejected: a wrong request is never answered from a copy");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>A name a request may carry as a header (a valid token, and not a content header such as Content-Type).</summary>
    private static bool IsHeaderName(string? name)
    {
        using var probe = new HttpRequestMessage();
        return !string.IsNullOrEmpty(name) && probe.Headers.TryAddWithoutValidation(name, "x");
    }
}
