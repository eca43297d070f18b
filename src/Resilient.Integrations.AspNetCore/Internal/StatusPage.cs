using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.Extensions.Primitives;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Health;
using Resilient.Integrations.Status;

namespace Resilient.Integrations.AspNetCore.Internal;

/// <summary>
/// The page for people: plain semantic HTML and inline CSS, nothing fetched, no script. A state is always a word and a
/// sign besides its colour; tables have captions and header cells; it reloads itself unless asked not to.
/// </summary>
internal static class StatusPage
{
    private const string Style = """
        body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
        h1{font-size:1.5rem;margin:0 0 .25rem} h2{font-size:1.15rem;margin:1.75rem 0 .5rem}
        table{border-collapse:collapse;width:100%;margin:.25rem 0 1rem} caption{text-align:left;font-weight:600;padding:.25rem 0}
        th,td{border:1px solid #c8c8c8;padding:.35rem .5rem;text-align:left;vertical-align:top} th{background:#f2f2f2}
        .state{font-weight:700;padding:.1rem .45rem;border-radius:.25rem;white-space:nowrap;border:1px solid #555}
        .Green{background:#d7f5dd;color:#0b4d1a} .Yellow{background:#fff1c2;color:#5c4300} .Red{background:#ffd9d6;color:#7a0c00} .Unknown{background:#e8e8e8;color:#333}
        .muted{color:#555} form{display:inline} input[type=text]{width:12rem} button{margin:.1rem .25rem}
        p[role=status]{background:#e7f0ff;border:1px solid #4a6fa5;padding:.4rem .6rem}
        """;

    public static string Render(
        ResilienceStatusReport report, ResilienceStatusPageOptions options, string basePath, AntiforgeryTokenSet tokens, bool refresh, StringValues done, StringValues id)
    {
        var e = HtmlEncoder.Default;
        var html = new StringBuilder(8192);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        if (refresh)
        {
            html.Append(CultureInfo.InvariantCulture, $"<meta http-equiv=\"refresh\" content=\"{(int)options.RefreshInterval.TotalSeconds}\">");
        }

        html.Append(CultureInfo.InvariantCulture, $"<title>{e.Encode(options.Title)}: {Summary(report)}</title><style>{Style}</style></head><body><main>");
        html.Append(CultureInfo.InvariantCulture, $"<h1>{e.Encode(options.Title)}: {Summary(report)}</h1><p class=\"muted\">As of {Time(report.GeneratedAt)}. ");
        html.Append(refresh
            ? $"Reloads every {Span(options.RefreshInterval)}: <a href=\"{e.Encode(basePath)}?refresh=off\">stop reloading</a>."
            : $"Not reloading: <a href=\"{e.Encode(basePath)}\">reload every {Span(options.RefreshInterval)}</a>.");
        html.Append(CultureInfo.InvariantCulture, $" <a href=\"{e.Encode(basePath)}/status.json\">JSON</a></p>");
        if (!StringValues.IsNullOrEmpty(done))
        {
            string what = done.ToString() switch
            {
                "requeued" => "was requeued: it is delivered with the next replay",
                "discarded" => "was discarded (its record is kept)",
                _ => "was not found: another operator may have acted on it already",
            };
            html.Append(CultureInfo.InvariantCulture, $"<p role=\"status\">Dead letter {e.Encode(id.ToString())} {what}.</p>");
        }

        Integrations(html, report, e);
        foreach (var integration in report.Integrations.Where(i => i.DeadLetters.Count > 0))
        {
            DeadLetters(html, integration, basePath, tokens, e);
        }

        Alerts(html, report, e);
        html.Append("</main></body></html>");
        return html.ToString();
    }

    private static void Integrations(StringBuilder html, ResilienceStatusReport report, HtmlEncoder e)
    {
        html.Append("<h2 id=\"integrations\">State of each integration</h2><table aria-describedby=\"integrations\"><caption>State, calls and queue of each integration</caption><thead><tr>")
            .Append("<th scope=\"col\">Integration</th><th scope=\"col\">State</th><th scope=\"col\">Last result</th><th scope=\"col\">Circuit</th>")
            .Append("<th scope=\"col\">Pacing</th><th scope=\"col\">Retry budget</th><th scope=\"col\">Copies served</th><th scope=\"col\">Queued writes</th>")
            .Append("<th scope=\"col\">Dead letters</th></tr></thead><tbody>");
        foreach (var i in report.Integrations)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><th scope=\"row\">{e.Encode(i.Name)}</th>");
            html.Append(CultureInfo.InvariantCulture, $"<td><span class=\"state {i.State}\">{Sign(i.State)} {i.State}</span>");
            if (i.Since is { } since)
            {
                html.Append(CultureInfo.InvariantCulture, $"<br><span class=\"muted\">since {Time(since)} ({Span(report.GeneratedAt - since)})</span>");
            }

            html.Append("</td><td>");
            html.Append(i.LastResult is { } last ? e.Encode(last) : "<span class=\"muted\">none yet</span>");
            if (i.LastResultAt is { } at)
            {
                html.Append(CultureInfo.InvariantCulture, $"<br><span class=\"muted\">{Span(report.GeneratedAt - at)} ago</span>");
            }

            if (i.LastFailureKind is { } failure && i.LastResultKind != failure)
            {
                html.Append(CultureInfo.InvariantCulture, $"<br><span class=\"muted\">last failure: {failure}</span>");
            }

            html.Append(CultureInfo.InvariantCulture, $"</td><td>{(i.Circuit == "Unknown" ? "<span class=\"muted\">no calls yet</span>" : e.Encode(i.Circuit))}</td>");
            html.Append(i.PacingHold > TimeSpan.Zero ? $"<td>holding requests {Span(i.PacingHold)}</td>" : "<td>not holding</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td>{i.RetryBudgetRetries} of {i.RetryBudgetAllowed} retries used ({i.RetryBudgetRequests} requests)</td>");
            html.Append(CultureInfo.InvariantCulture, $"<td>{i.CopiesServed}");
            if (i.OldestCopyServedAge is { } age)
            {
                html.Append(CultureInfo.InvariantCulture, $"<br>oldest served lately: data {Span(age)} old");
            }

            html.Append("</td><td>");
            if (i.QueueError is { } queueError)
            {
                html.Append(CultureInfo.InvariantCulture, $"store unreachable: {e.Encode(queueError)}");
            }
            else if (i.Queue is { } queue)
            {
                html.Append(CultureInfo.InvariantCulture, $"{queue.Depth}");
                if (queue.OldestEnqueuedAt is { } oldest)
                {
                    html.Append(CultureInfo.InvariantCulture, $"<br>oldest {Span(report.GeneratedAt - oldest)}");
                }
            }
            else
            {
                html.Append("<span class=\"muted\">no store</span>");
            }

            html.Append(CultureInfo.InvariantCulture, $"</td><td>{(i.Queue is { } q ? q.DeadLettered.ToString(CultureInfo.InvariantCulture) : "–")}</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static void DeadLetters(StringBuilder html, IntegrationStatus integration, string basePath, AntiforgeryTokenSet tokens, HtmlEncoder e)
    {
        string name = e.Encode(integration.Name);
        html.Append(CultureInfo.InvariantCulture, $"<h2>Dead letters of {name}</h2><table><caption>Writes that will not be retried until an operator requeues them (oldest first)</caption><thead><tr>")
            .Append("<th scope=\"col\">Id</th><th scope=\"col\">Request</th><th scope=\"col\">Why</th><th scope=\"col\">Age</th><th scope=\"col\">Attempts</th><th scope=\"col\">Action</th></tr></thead><tbody>");
        string hidden = $"<input type=\"hidden\" name=\"{e.Encode(tokens.FormFieldName)}\" value=\"{e.Encode(tokens.RequestToken ?? "")}\"><input type=\"hidden\" name=\"integration\" value=\"{name}\">";
        foreach (DeferredWriteEntry letter in integration.DeadLetters)
        {
            string request = letter.Method is null ? e.Encode(letter.Handler ?? "delegate") : $"{e.Encode(letter.Method)} {e.Encode(letter.Address ?? "")}";
            string id = letter.Id.ToString(CultureInfo.InvariantCulture);
            html.Append(CultureInfo.InvariantCulture, $"<tr><th scope=\"row\">{id}</th><td>{request}</td><td>{e.Encode(letter.Reason ?? letter.LastFailure ?? "")}</td>")
                .Append(CultureInfo.InvariantCulture, $"<td>{Span(letter.Age)}</td><td>{letter.Attempts}</td><td>")
                .Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"{e.Encode(basePath)}/dead-letters/requeue\">{hidden}<input type=\"hidden\" name=\"id\" value=\"{id}\"><button type=\"submit\">Requeue {id}</button></form>")
                .Append(CultureInfo.InvariantCulture, $"<form method=\"post\" action=\"{e.Encode(basePath)}/dead-letters/discard\">{hidden}<input type=\"hidden\" name=\"id\" value=\"{id}\">")
                .Append(CultureInfo.InvariantCulture, $"<label for=\"reason-{name}-{id}\">Reason</label> <input type=\"text\" id=\"reason-{name}-{id}\" name=\"reason\"><button type=\"submit\">Discard {id}</button></form></td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static void Alerts(StringBuilder html, ResilienceStatusReport report, HtmlEncoder e)
    {
        html.Append("<h2>Recent alerts</h2>");
        if (report.RecentAlerts.Count == 0)
        {
            html.Append("<p class=\"muted\">None since the app started.</p>");
            return;
        }

        html.Append("<table><caption>Newest first, as given to the sinks (repeats within the cooldown counted, not listed)</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Integration</th>")
            .Append("<th scope=\"col\">Severity</th><th scope=\"col\">Kind</th><th scope=\"col\">Message</th></tr></thead><tbody>");
        foreach (var alert in report.RecentAlerts)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{Time(alert.Time)}</td><td>{e.Encode(alert.Integration)}</td><td>{alert.Severity}</td><td>{alert.Kind}</td><td>{e.Encode(alert.Message)}</td></tr>");
        }

        html.Append("</tbody></table>");
    }

    private static string Summary(ResilienceStatusReport report)
    {
        int red = report.Integrations.Count(i => i.State == HealthState.Red), yellow = report.Integrations.Count(i => i.State == HealthState.Yellow);
        return red + yellow == 0 ? "all well" : string.Create(CultureInfo.InvariantCulture, $"{red} Red, {yellow} Yellow");
    }

    private static string Sign(HealthState state) => state switch
    {
        HealthState.Green => "✓",
        HealthState.Yellow => "!",
        HealthState.Red => "✕",
        _ => "?",
    };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Span(TimeSpan span) => span switch
    {
        { TotalSeconds: < 1 } => "under a second",
        { TotalMinutes: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds} s"),
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min"),
        { TotalDays: < 2 } => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays} days"),
    };
}
