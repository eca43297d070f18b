using System.Globalization;
using Microsoft.Extensions.Logging;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Fallback.Internal;
using Resilient.Integrations.Health.Internal;
using Resilient.Integrations.Telemetry.Internal;

namespace Resilient.Integrations.Credentials.Internal;

/// <summary>
/// Knows when one integration's credential expires and says so in time: one Warning <see cref="CredentialExpiryOptions.WarnBefore"/>
/// ahead (health turns Yellow), one Critical at the expiry. A later expiry (a renewed credential) starts over. One timer
/// on the injected clock, armed for the next step; it never carries or logs the credential, only its times.
/// </summary>
internal sealed class CredentialExpiryWatch : IDisposable
{
    // System timers cannot wait much beyond 49 days; a long wait is taken in steps.
    private static readonly TimeSpan MaxTimerStep = TimeSpan.FromDays(1);

    private readonly string _integration;
    private readonly CredentialExpiryOptions _options;
    private readonly TimeProvider _time;
    private readonly IAlertDispatcher _alerts;
    private readonly HealthMonitor _health;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private ITimer? _timer;
    private DateTimeOffset? _expiresAt;
    private string _source = "";
    private bool _shortLived;
    private Stage _stage;

    public CredentialExpiryWatch(string integration, CredentialExpiryOptions options, TimeProvider time, IAlertDispatcher alerts, HealthMonitor health, ILogger logger)
    {
        _integration = integration;
        _options = options;
        _time = time;
        _alerts = alerts;
        _health = health;
        _logger = logger;
    }

    private enum Stage
    {
        Quiet,
        Warned,
        Expired,
    }

    public CredentialExpiryOptions Options => _options;

    /// <summary>Learns when the credential in use expires. <paramref name="issuedAt"/> tells a short-lived, routinely refreshed token.</summary>
    public void Observe(DateTimeOffset expiresAt, string source, DateTimeOffset? issuedAt = null)
    {
        lock (_gate)
        {
            if (_expiresAt == expiresAt)
            {
                if (_shortLived && _stage != Stage.Expired && _time.GetUtcNow() >= expiresAt)
                {
                    Evaluate(seenInUse: true); // a short-lived token still sent after it expired
                }

                return;
            }

            bool renewed = _expiresAt is { } old && expiresAt > old && _stage != Stage.Quiet;
            _expiresAt = expiresAt;
            _source = source;
            _shortLived = issuedAt is { } iat && expiresAt - iat <= _options.WarnBefore;
            if (renewed)
            {
                _stage = Stage.Quiet;
                _health.SetCredentialExpiring(_integration, false);
                Log.CredentialRenewed(_logger, _integration, expiresAt, source);
            }
            else
            {
                Log.CredentialExpiryLearned(_logger, _integration, expiresAt, source);
            }

            Evaluate(seenInUse: true);
        }
    }

    /// <summary>The token of a known expiry was sent again: news only when it has expired by now.</summary>
    public void SeenAgain(DateTimeOffset expiresAt)
    {
        if (_time.GetUtcNow() >= expiresAt)
        {
            Observe(expiresAt, _source);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Evaluate(bool seenInUse)
    {
        if (_expiresAt is not { } expiresAt)
        {
            return;
        }

        var now = _time.GetUtcNow();
        TimeSpan? next;
        if (now >= expiresAt)
        {
            // A short-lived token is refreshed as a matter of course: only one still sent after its expiry is news.
            if (_stage != Stage.Expired && (!_shortLived || seenInUse))
            {
                _stage = Stage.Expired;
                Raise(AlertSeverity.Critical, expiresAt, now);
            }

            next = null;
        }
        else if (!_shortLived && now >= expiresAt - _options.WarnBefore)
        {
            if (_stage == Stage.Quiet)
            {
                _stage = Stage.Warned;
                Raise(AlertSeverity.Warning, expiresAt, now);
            }

            next = expiresAt - now;
        }
        else
        {
            next = _shortLived ? null : expiresAt - _options.WarnBefore - now;
        }

        if (next is { } wait)
        {
            _timer ??= _time.CreateTimer(static s => ((CredentialExpiryWatch)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(wait < MaxTimerStep ? wait : MaxTimerStep, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void Tick()
    {
        lock (_gate)
        {
            if (_timer is not null)
            {
                Evaluate(seenInUse: false);
            }
        }
    }

    private void Raise(AlertSeverity severity, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        _health.SetCredentialExpiring(_integration, true);
        string when = expiresAt.ToString("u", CultureInfo.InvariantCulture);
        string message;
        if (severity == AlertSeverity.Critical)
        {
            Log.CredentialExpired(_logger, _integration, expiresAt, _source);
            message = $"the credential expired at {when} (read from {_source}); calls will be refused until it is renewed";
        }
        else
        {
            string left = HumaneAge.Span(expiresAt - now);
            Log.CredentialExpiresSoon(_logger, _integration, expiresAt, _source, left);
            message = $"the credential expires at {when} (read from {_source}), in {left}; renew it before then";
        }

        _alerts.Publish(new Alert
        {
            Integration = _integration,
            Severity = severity,
            Kind = FailureKind.Auth,
            Message = message,
            Time = now,
            Topic = "credential-expiry",
            Details = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["expires"] = expiresAt.ToString("O", CultureInfo.InvariantCulture),
                ["source"] = _source,
            },
        });
    }
}
