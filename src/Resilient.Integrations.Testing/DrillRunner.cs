using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Alerts;
using Resilient.Integrations.Batch;
using Resilient.Integrations.Classification;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Failover;
using Resilient.Integrations.Fallback;
using Resilient.Integrations.Health;
using WireMock.Server;

namespace Resilient.Integrations.Testing;

/// <summary>
/// Breaks an integration's upstream on purpose, one scenario at a time, and checks what the article demands:
/// the last good data served with a notice, an alert of the right severity, a bad item skipped while the batch
/// goes on, the health state turned. Call it from your own tests against your real wiring.
/// </summary>
public static class DrillRunner
{
    /// <summary>Runs the drill.</summary>
    /// <param name="services">The app's services, with the integration registered and a <see cref="DrillAlertRecorder"/> added as an alert sink.</param>
    /// <param name="integration">The integration's name.</param>
    /// <param name="upstream">The WireMock.Net server the integration's base address points at.</param>
    /// <param name="options">What to exercise.</param>
    /// <param name="cancellationToken">Cancels the drill.</param>
    /// <returns>One result per scenario, with evidence.</returns>
    public static async Task<DrillReport> RunAsync(
        IServiceProvider services, string integration, WireMockServer upstream, DrillOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(integration);
        ArgumentNullException.ThrowIfNull(upstream);
        options ??= new DrillOptions();
        var drill = new Drill(services, integration, upstream, options, cancellationToken);
        var results = new List<DrillResult>();
        foreach (var scenario in options.Scenarios)
        {
            results.Add(await drill.RunAsync(scenario).ConfigureAwait(false));
        }

        await drill.PrimeAsync().ConfigureAwait(false); // each scenario primes first; leave the integration healthy too

        return new DrillReport(integration, results);
    }

    private sealed class Drill(IServiceProvider services, string integration, WireMockServer upstream, DrillOptions options, CancellationToken ct)
    {
        private readonly HttpClient _client = services.GetRequiredService<IHttpClientFactory>().CreateClient(integration);
        private readonly DrillAlertRecorder? _alerts = services.GetService<DrillAlertRecorder>();
        private readonly IIntegrationHealthMonitor _health = services.GetRequiredService<IIntegrationHealthMonitor>();
        private readonly TimeProvider _time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        private readonly List<string> _evidence = [];
        private readonly List<string> _failures = [];

        public async Task<DrillResult> RunAsync(FaultScenario scenario)
        {
            _evidence.Clear();
            _failures.Clear();
            try
            {
                await RunScenarioAsync(scenario).ConfigureAwait(false);
            }
            catch (IntegrationFailureException ex)
            {
                // A scenario that cannot even be set up is a finding of its own, not the end of the drill.
                _failures.Add($"the scenario could not be set up: a healthy read failed with {ex.Classification} (an earlier scenario may have left the circuit open)");
            }

            return new DrillResult(scenario, [.. _evidence], [.. _failures]);
        }

        private async Task RunScenarioAsync(FaultScenario scenario)
        {
            await PrimeAsync().ConfigureAwait(false);
            await NewEpisodeAsync().ConfigureAwait(false);
            var injectedAt = _time.GetUtcNow();

            // Slow depends on the integration's attempt timeout, a refused connection on a server of the drill's own,
            // and a write goes to the write path: those three set themselves up.
            if (scenario is not (FaultScenario.WriteWhileDown or FaultScenario.Slow or FaultScenario.ConnectionRefused or FaultScenario.FailoverPrimaryDown or FaultScenario.FailoverAllDown or FaultScenario.SlowWithSoftTimeout))
            {
                upstream.Inject(scenario, options.ReadPath, _time);
            }

            switch (scenario)
            {
                case FaultScenario.Down:
                    await ExpectCopyAsync(FailureKind.Unavailable, AlertSeverity.Warning).ConfigureAwait(false);
                    break;
                case FaultScenario.Slow:
                    var attemptTimeout = Options.AttemptTimeout;
                    if (attemptTimeout > TimeSpan.FromSeconds(5))
                    {
                        _evidence.Add($"skipped: the attempt timeout ({attemptTimeout}) is too long for a drill; shorten it in the drill's configuration");
                        break;
                    }

                    upstream.InjectSlow(options.ReadPath, attemptTimeout + TimeSpan.FromMilliseconds(500));
                    // With a soft timeout the copy comes first and the attempt times out later, in the background: wait for its alert.
                    await ExpectCopyAsync(FailureKind.Timeout, AlertSeverity.Warning, beforeAlert: Options.Fallback.SoftTimeout is null ? null : () =>
                        WaitForAsync(() => _alerts?.Alerts.FirstOrDefault(a => a.Integration == integration && a.Kind == FailureKind.Timeout), options.AlertWait)).ConfigureAwait(false);
                    break;
                case FaultScenario.SlowWithSoftTimeout:
                    await ExpectStaleWhileSlowAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.ConnectionRefused:
                    await ExpectRefusedAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.TokenExpired:
                    _evidence.Add($"token refused from {injectedAt:u}");
                    await ExpectCopyAsync(FailureKind.Auth, AlertSeverity.Critical).ConfigureAwait(false);
                    Expect(_health.Get(integration).State == HealthState.Red, $"health turned Red", $"health is {_health.Get(integration).State}, not Red, after a refused token");
                    break;
                case FaultScenario.QuotaExhausted:
                    await ExpectCopyAsync(FailureKind.QuotaExhausted, AlertSeverity.Critical).ConfigureAwait(false);
                    break;
                case FaultScenario.Malformed or FaultScenario.MalformedJson:
                    await ExpectCopyAsync(FailureKind.BadResponse, AlertSeverity.Warning).ConfigureAwait(false);
                    await ExpectSkippedAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.MissingFields:
                    await ExpectCopyAsync(FailureKind.BadResponse, AlertSeverity.Warning,
                        " (list the fields the app needs in JsonResponseValidatorOptions.RequiredProperties)").ConfigureAwait(false);
                    break;
                case FaultScenario.RateLimited:
                    await ExpectRateLimitedAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.Flapping:
                    await ExpectNoStormAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.WriteWhileDown:
                    await ExpectQueuedThenReplayedAsync().ConfigureAwait(false);
                    break;
                case FaultScenario.FailoverPrimaryDown or FaultScenario.FailoverAllDown when options.Secondary is null:
                    _evidence.Add("skipped: set DrillOptions.Secondary (and list its address in Failover:Endpoints) to drill failover");
                    break;
                case FaultScenario.FailoverPrimaryDown:
                    await ExpectFailoverAsync(options.Secondary).ConfigureAwait(false);
                    break;
                case FaultScenario.FailoverAllDown:
                    upstream.Inject(FaultScenario.Down, options.ReadPath, _time);
                    options.Secondary.Inject(FaultScenario.Down, options.ReadPath, _time);
                    _evidence.Add("the primary and the secondary both answer 503");
                    await ExpectCopyAsync(FailureKind.Unavailable, AlertSeverity.Warning).ConfigureAwait(false);
                    break;
            }
        }

        /// <summary>
        /// Each scenario is its own alert episode: the alerts of the last one (a late "is Red") are delivered or
        /// suppressed first, then forgotten, and the cooldowns start afresh; a recovery still settling is dropped.
        /// </summary>
        private async Task NewEpisodeAsync()
        {
            await FlushAlertsAsync().ConfigureAwait(false);
            _alerts?.Clear();
            services.GetRequiredService<IAlertDispatcher>().ResetCooldown(integration);
        }

        /// <summary>Alerts are queued on the call's path and delivered in the background: wait for those queued so far.</summary>
        private async Task FlushAlertsAsync()
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(options.AlertWait);
            try
            {
                await services.GetRequiredService<IAlertDispatcher>().FlushAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // A sink slower than AlertWait: judge what has arrived.
            }
        }

        /// <summary>Serves the read path healthily (on the secondary too) and reads it through the integration: a copy to fall back on, health Green.</summary>
        public Task PrimeAsync()
        {
            options.Secondary?.ServeHealthy(options.ReadPath);
            return PrimeAsync(upstream, new Uri(options.ReadPath, UriKind.Relative));
        }

        /// <summary>The primary down, the secondary healthy: a live answer from the secondary that says so, Yellow, one failover alert.</summary>
        private async Task ExpectFailoverAsync(WireMockServer secondary)
        {
            upstream.Inject(FaultScenario.Down, options.ReadPath, _time);
            _evidence.Add("the primary answers 503, the secondary is healthy");
            try
            {
                using var response = await _client.GetAsync(options.ReadPath, ct).ConfigureAwait(false);
                var served = response.GetServedEndpoint();
                if (response.GetDegradation() is { } stale)
                {
                    _failures.Add($"the last good copy was served (\"{stale.Notice}\") although the secondary is healthy: is its address in Failover:Endpoints?");
                }
                else
                {
                    Expect(
                        served is not null && served.Endpoint.Authority == new Uri(secondary.Url!).Authority,
                        $"answered live: \"{served?.Notice}\"",
                        $"answered {(int)response.StatusCode} {(served is null ? "without saying which endpoint served it" : "by " + served.Endpoint)}: is {secondary.Url} in Failover:Endpoints?");
                }
            }
            catch (IntegrationFailureException ex)
            {
                _failures.Add($"no failover: the caller got {ex.Classification} (is {secondary.Url} in Failover:Endpoints?)");
            }

            var state = _health.Get(integration).State;
            Expect(state == HealthState.Yellow, "health turned Yellow while the secondary serves", $"health is {state}, not Yellow, while the secondary serves");
            await FlushAlertsAsync().ConfigureAwait(false);
            var alert = _alerts?.Alerts.FirstOrDefault(a => a.Integration == integration && a.Message.StartsWith("failed over", StringComparison.Ordinal));
            Expect(_alerts is null || alert is not null, $"alert fired: {alert}", "no failover alert");
        }

        private async Task PrimeAsync(WireMockServer server, Uri address)
        {
            server.ServeHealthy(options.ReadPath);

            // A slow read's live call may still be landing in the background (its answer logged by the server, its place
            // not yet given back): a read then joins it and is answered from the copy, and so would the scenario's own
            // reads, never reaching the service. Prime until a read no longer joins one.
            await WaitForAsync(
                async () =>
                {
                    using var response = await _client.GetAsync(address, ct).ConfigureAwait(false);
                    return response.GetDegradation() is { Cause: DegradationCause.LiveCallSlow } ? null : response.StatusCode.ToString();
                },
                TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            for (int i = 0; i < 3; i++)
            {
                using var response = await _client.GetAsync(address, ct).ConfigureAwait(false);
            }
        }

        /// <summary>A spare server takes the reads, then stops: the same integration now meets a refused connection.</summary>
        private async Task ExpectRefusedAsync()
        {
            // The stopped spare's port is held at once so that no parallel server can take it and answer instead.
            for (int attempt = 0; attempt < 5; attempt++)
            {
                Uri address;
                int port;
                using (var spare = WireMockServer.Start(new WireMock.Settings.WireMockServerSettings { Urls = ["http://127.0.0.1:0"] }))
                {
                    address = new Uri(new Uri(spare.Url!), options.ReadPath);
                    port = address.Port;
                    await PrimeAsync(spare, address).ConfigureAwait(false);
                    spare.Stop();
                }

                using var refused = RefusedPort.TryHold(port);
                if (refused is null)
                {
                    continue;
                }

                await NewEpisodeAsync().ConfigureAwait(false);
                _evidence.Add($"connections to {address.Authority} refused");
                await ExpectCopyAsync(FailureKind.Unavailable, AlertSeverity.Warning, address: address).ConfigureAwait(false);
                return;
            }

            _failures.Add("could not hold a stopped server's port: another process kept taking it");
        }

        private Policies.ResilientIntegrationOptions Options =>
            services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<Policies.ResilientIntegrationOptions>>().Get(integration);

        /// <summary>
        /// A read past the soft timeout is answered from the copy, the service gets that one request, and its slow answer
        /// refreshes the copy when it lands: the next read that is slow again is answered from a copy fetched after the first began.
        /// </summary>
        private async Task ExpectStaleWhileSlowAsync()
        {
            var integrationOptions = Options;
            if (integrationOptions.Fallback.SoftTimeout is not { } soft)
            {
                _evidence.Add("skipped: Fallback:SoftTimeout is off; set it to drill stale-while-slow");
                return;
            }

            var delay = soft + TimeSpan.FromSeconds(1);
            if (soft > TimeSpan.FromSeconds(5) || delay >= integrationOptions.AttemptTimeout)
            {
                _evidence.Add($"skipped: a soft timeout of {soft} leaves no room for a slow answer {delay} late within the attempt timeout ({integrationOptions.AttemptTimeout}) in a drill");
                return;
            }

            upstream.InjectSlow(options.ReadPath, delay);
            var startedAt = _time.GetUtcNow();
            long started = _time.GetTimestamp();
            try
            {
                using var response = await _client.GetAsync(options.ReadPath, ct).ConfigureAwait(false);
                var stale = response.GetDegradation();
                if (stale?.Cause != DegradationCause.LiveCallSlow)
                {
                    _failures.Add(stale is null
                        ? $"a read {delay} slow was not answered from the copy: it waited {_time.GetElapsedTime(started)} for the live answer"
                        : $"a slow read was answered from the copy as a failure ({stale.Kind}), not as slow");
                    return;
                }

                _evidence.Add($"answered from the copy after {_time.GetElapsedTime(started).TotalMilliseconds:0} ms: \"{stale.Notice}\"");
            }
            catch (IntegrationFailureException ex)
            {
                _failures.Add($"a slow read failed instead of being answered from the copy: {ex.Classification}");
                return;
            }

            await AnsweredOnceAsync().ConfigureAwait(false);
            int requests = upstream.LogEntries.Count(e => e.RequestMessage?.Path == options.ReadPath);
            Expect(requests == 1, "the service got one request, answered in the background", $"the service got {requests} requests for one slow read");

            // Until the slow answer is kept, a read joins it and gets the old copy at once; after, it goes live again and,
            // slow again, gets the copy the slow answer refreshed.
            var refreshed = await WaitForAsync(
                async () =>
                {
                    using var again = await _client.GetAsync(options.ReadPath, ct).ConfigureAwait(false);
                    return again.GetDegradation() is { } copy && copy.AsOf >= startedAt ? copy : null;
                },
                TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            Expect(refreshed is not null, $"the slow answer refreshed the copy (as of {refreshed?.AsOf:u})", "the slow answer did not refresh the copy");

            // The read that found the refreshed copy left a live call of its own in the background: let it land, or the
            // next scenario's reads would join it instead of reaching the service.
            await WaitForAsync(() => upstream.LogEntries.Where(e => e.RequestMessage?.Path == options.ReadPath).Skip(1).FirstOrDefault(), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        /// <summary>Waits (bounded) until the server has answered the slow read: it logs a request only once it has answered it.</summary>
        private async Task AnsweredOnceAsync() =>
            await WaitForAsync(() => upstream.LogEntries.FirstOrDefault(e => e.RequestMessage?.Path == options.ReadPath), TimeSpan.FromSeconds(30)).ConfigureAwait(false);

        private async Task ExpectCopyAsync(FailureKind kind, AlertSeverity severity, string? hint = null, Uri? address = null, Func<Task>? beforeAlert = null)
        {
            try
            {
                using var response = await (address is null ? _client.GetAsync(options.ReadPath, ct) : _client.GetAsync(address, ct)).ConfigureAwait(false);
                var stale = response.GetDegradation();
                if (stale is null)
                {
                    _failures.Add($"the {kind} failure passed through as a live {(int)response.StatusCode} answer{hint}");
                }
                else
                {
                    // A copy served while slow says what became of the live call (in the background, joined, cancelled): an
                    // alert for it comes only from a live call of the read's own.
                    string path = stale.Cause == DegradationCause.LiveCallSlow ? $" ({stale.Failure.Reason})" : "";
                    Expect(stale.Kind == kind, $"served the last good copy: \"{stale.Notice}\"{path}", $"served a copy for {stale.Kind}, expected {kind}{path}");
                }
            }
            catch (IntegrationFailureException ex)
            {
                _failures.Add($"no fallback served: the caller got {ex.Classification}");
            }

            if (beforeAlert is not null)
            {
                await beforeAlert().ConfigureAwait(false);
            }

            await ExpectAlertAsync(kind, severity).ConfigureAwait(false);
        }

        private async Task ExpectAlertAsync(FailureKind kind, AlertSeverity severity)
        {
            if (_alerts is null)
            {
                _failures.Add("no DrillAlertRecorder registered as an alert sink: alerts cannot be checked");
                return;
            }

            await FlushAlertsAsync().ConfigureAwait(false);
            var alert = _alerts.Alerts.FirstOrDefault(a => a.Integration == integration && a.Kind == kind);
            if (alert is null)
            {
                var seen = _alerts.Alerts.Where(a => a.Integration == integration).Select(a => a.ToString()).ToList();
                _failures.Add($"no {severity} alert for {kind} (alerts seen: {(seen.Count == 0 ? "none" : string.Join("; ", seen))}; health {_health.Get(integration).State})");
            }
            else
            {
                Expect(alert.Severity == severity, $"alert fired: {alert}", $"alert for {kind} was {alert.Severity}, expected {severity}");
            }
        }

        private async Task ExpectSkippedAsync()
        {
            // Without a copy to fall back on, a bad item must be skipped and the batch must go on.
            var report = await IntegrationBatch.RunAsync(
                [options.ReadPath, options.ReadPath],
                async (path, token) =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, path).DisableFallback();
                    using var response = await _client.SendAsync(request, token).ConfigureAwait(false);
                    return (int)response.StatusCode;
                },
                cancellationToken: ct).ConfigureAwait(false);
            Expect(
                report.Skipped.Count == 2 && report.NotAttempted.Count == 0 && report.Skipped.All(s => s.Failure.Kind == FailureKind.BadResponse),
                $"bad items skipped and the batch went on: {report}",
                $"malformed items were not skipped as BadResponse: {report}");
        }

        private async Task ExpectRateLimitedAsync()
        {
            // A real quota (two requests, then one more every 500 ms) that reports no budget. The first two calls go
            // together and spend it at once, so the next ones meet its 429s however slow the machine is (one call after
            // another, slow calls would let it refill); those wait as the server asks, one after the other.
            var first = await Task.WhenAll(CallAsync(0), CallAsync(1)).ConfigureAwait(false);
            var problems = new List<string?>(first) { await CallAsync(2).ConfigureAwait(false), await CallAsync(3).ConfigureAwait(false) };
            _failures.AddRange(problems.OfType<string>());
            int answered = problems.Count(p => p is null);

            async Task<string?> CallAsync(int i)
            {
                try
                {
                    using var response = await _client.GetAsync(options.ReadPath, ct).ConfigureAwait(false);
                    return response.IsSuccessStatusCode && response.GetDegradation() is null
                        ? null
                        : $"call {i + 1} against the quota was not answered live: {(int)response.StatusCode}{(response.GetDegradation() is { } stale ? " from the last good copy (" + stale.Failure + ")" : "")}";
                }
                catch (IntegrationFailureException ex)
                {
                    return $"call {i + 1} against the quota failed: {ex.Classification}";
                }
            }

            int refused = upstream.LogEntries.Count(e => e.ResponseMessage?.StatusCode is 429);
            Expect(refused > 0, $"the quota answered {refused} request(s) 429 with retry-after-ms", "the quota never refused a request: the drill did not exercise a rate limit");
            Expect(answered == 4, $"all 4 calls answered live after waiting as the server asked", $"{4 - answered} of 4 calls failed against a quota that refills every 500 ms");
            await FlushAlertsAsync().ConfigureAwait(false);
            Expect(_alerts is null || !_alerts.Alerts.Any(a => a.Severity == AlertSeverity.Critical), "no Critical alert for a rate limit", "a rate limit raised a Critical alert");
        }

        private async Task ExpectNoStormAsync()
        {
            int live = 0, copies = 0;
            for (int i = 0; i < 6; i++)
            {
                try
                {
                    using var response = await _client.GetAsync(options.ReadPath, ct).ConfigureAwait(false);
                    _ = response.GetDegradation() is null ? live++ : copies++;
                }
                catch (IntegrationFailureException)
                {
                }
            }

            await FlushAlertsAsync().ConfigureAwait(false);
            int alerts = _alerts?.Alerts.Count(a => a.Integration == integration) ?? 0;
            Expect(alerts <= 1, $"6 calls to a flapping API ({live} live, {copies} from the copy) raised {alerts} alert(s)", $"a flapping API raised {alerts} alerts: an alert storm");
        }

        private async Task ExpectQueuedThenReplayedAsync()
        {
            if (options.WritePath is not { } path)
            {
                _evidence.Add("skipped: set DrillOptions.WritePath to drill store-and-forward");
                return;
            }

            upstream.Inject(FaultScenario.Down, path);
            using var write = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("""{"drill":true}""", System.Text.Encoding.UTF8, "application/json") };
            write.DeferOnFailure();
            Deferral.Deferral? queued = null;
            try
            {
                using var response = await _client.SendAsync(write, ct).ConfigureAwait(false);
                queued = response.GetDeferral();
                Expect(queued is not null, $"write answered {(int)response.StatusCode}: \"{queued?.Notice}\"", $"write while down answered {(int)response.StatusCode} without being queued");
            }
            catch (IntegrationFailureException ex)
            {
                _failures.Add($"write while down was not queued: the caller got {ex.Classification} (is a deferred-write store registered?)");
            }

            if (queued is null)
            {
                return;
            }

            upstream.ServeHealthy(path);
            var delivered = await WaitForAsync(
                () => upstream.LogEntries.FirstOrDefault(e => e.RequestMessage?.Method == "POST" && e.RequestMessage.Headers?["Idempotency-Key"].FirstOrDefault() == queued.IdempotencyKey),
                options.ReplayWait).ConfigureAwait(false);
            Expect(delivered is not null, $"replayed after recovery with the same Idempotency-Key {queued.IdempotencyKey}", $"the queued write was not replayed within {options.ReplayWait} (is the replay service running?)");
        }

        private Task<T?> WaitForAsync<T>(Func<T?> find, TimeSpan wait)
            where T : class => WaitForAsync(() => Task.FromResult(find()), wait);

        private async Task<T?> WaitForAsync<T>(Func<Task<T?>> find, TimeSpan wait)
            where T : class
        {
            var until = DateTime.UtcNow + wait;
            while (true)
            {
                if (await find().ConfigureAwait(false) is { } found)
                {
                    return found;
                }

                if (DateTime.UtcNow > until)
                {
                    return null;
                }

                await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }

        private void Expect(bool condition, string evidence, string failure) => (condition ? _evidence : _failures).Add(condition ? evidence : failure);
    }
}
