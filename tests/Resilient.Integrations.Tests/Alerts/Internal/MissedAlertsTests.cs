using Resilient.Integrations.Alerts;
using Resilient.Integrations.Alerts.Internal;
using Resilient.Integrations.Classification;

namespace Resilient.Integrations.Tests.Alerts.Internal;

public sealed class MissedAlertsTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 6, 0, 0, TimeSpan.Zero);

    private static Alert Failure(string integration) => new()
    {
        Integration = integration,
        Severity = AlertSeverity.Critical,
        Kind = FailureKind.Auth,
        Message = "Auth failure",
    };

    // What the dispatcher announces when an episode ends.
    private static Alert Recovered(string integration) => new()
    {
        Integration = integration,
        Severity = AlertSeverity.Info,
        Message = "recovered",
        Resolves = [(FailureKind.Auth, null)],
    };

    [Fact]
    public void ToAlert_RecoveryMissed_CarriedForTheSinkToResolve()
    {
        var missed = new MissedAlerts();
        missed.Add(Failure("crm"), At);
        missed.Add(Recovered("crm"), At);

        var summary = missed.Take().ToAlert(At);

        Assert.Equal("crm", Assert.Single(summary.Recoveries!).Integration);
        Assert.True(summary.AllRecovered);
    }

    [Fact]
    public void ToAlert_FailureAfterRecovery_RecoveryNoLongerHolds()
    {
        var missed = new MissedAlerts();
        missed.Add(Recovered("crm"), At);
        missed.Add(Failure("crm"), At);
        missed.Add(Recovered("erp"), At);

        var summary = missed.Take().ToAlert(At);

        Assert.Equal("erp", Assert.Single(summary.Recoveries!).Integration);
        Assert.False(summary.AllRecovered);
    }

    [Fact]
    public void Merge_OlderRecoveryPutBack_HoldsOnlyWithoutNewerAlertOfItsIntegration()
    {
        var older = new MissedAlerts();
        older.Add(Recovered("crm"), At);
        older.Add(Recovered("erp"), At);
        var taken = older.Take();
        older.Add(Failure("crm"), At); // counted while the summary was out

        older.Merge(taken);

        Assert.Equal("erp", Assert.Single(older.ToAlert(At).Recoveries!).Integration);
    }
}
