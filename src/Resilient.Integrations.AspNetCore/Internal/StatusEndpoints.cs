using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Resilient.Integrations.Deferral;
using Resilient.Integrations.Status;

namespace Resilient.Integrations.AspNetCore.Internal;

/// <summary>The page, its JSON, and the two dead-letter actions (POST only, antiforgery-checked, then back to the page).</summary>
internal static class StatusEndpoints
{
    public static void Map(RouteGroupBuilder group, ResilienceStatusPageOptions options)
    {
        // RequestDelegates, not handlers bound by reflection: the package stays trimming- and AOT-safe.
        group.MapGet("/", context => PageAsync(context, options)).ExcludeFromDescription();
        group.MapGet("/status.json", JsonAsync).ExcludeFromDescription();
        group.MapPost("/dead-letters/requeue", context => RunAsync(context, ActAsync(context, requeue: true))).ExcludeFromDescription();
        group.MapPost("/dead-letters/discard", context => RunAsync(context, ActAsync(context, requeue: false))).ExcludeFromDescription();
    }

    private static async Task JsonAsync(HttpContext context)
    {
        var report = await context.RequestServices.GetRequiredService<IResilienceStatus>().GetAsync(context.RequestAborted).ConfigureAwait(false);
        NoStore(context);
        await Results.Json(report, StatusJson.Default.ResilienceStatusReport).ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task RunAsync(HttpContext context, Task<IResult> action)
    {
        var result = await action.ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    private static async Task PageAsync(HttpContext context, ResilienceStatusPageOptions options)
    {
        var report = await context.RequestServices.GetRequiredService<IResilienceStatus>().GetAsync(context.RequestAborted).ConfigureAwait(false);
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        bool refresh = !string.Equals(context.Request.Query["refresh"], "off", StringComparison.Ordinal);
        string html = StatusPage.Render(report, options, BasePath(context), tokens, refresh, context.Request.Query["done"], context.Request.Query["id"]);
        NoStore(context);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await context.Response.WriteAsync(html, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<IResult> ActAsync(HttpContext context, bool requeue)
    {
        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return Results.Problem("The form's antiforgery token is missing or invalid: reload the status page and try again.", statusCode: StatusCodes.Status400BadRequest);
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        string? integration = form["integration"];
        if (string.IsNullOrEmpty(integration) || !long.TryParse(form["id"], System.Globalization.CultureInfo.InvariantCulture, out long id))
        {
            return Results.Problem("The form names no integration or dead letter.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (context.RequestServices.GetService<IDeferredWriteStore>() is null)
        {
            return Results.Problem("No deferred-write store is registered.", statusCode: StatusCodes.Status404NotFound);
        }

        var admin = context.RequestServices.GetRequiredService<IDeferredWriteAdmin>();
        string done;
        if (requeue)
        {
            done = await admin.RequeueAsync(integration, id, context.RequestAborted).ConfigureAwait(false) is null ? "missing" : "requeued";
        }
        else
        {
            string reason = string.IsNullOrWhiteSpace(form["reason"]) ? "discarded from the status page" : form["reason"].ToString();
            done = await admin.DiscardAsync(integration, id, reason, context.RequestAborted).ConfigureAwait(false) ? "discarded" : "missing";
        }

        // Post/redirect/get: a reload of the page must not repeat the action.
        return Results.Redirect($"{BasePath(context)}?done={done}&id={id}");
    }

    /// <summary>The page's own address, whatever prefix the app mapped it under.</summary>
    private static string BasePath(HttpContext context)
    {
        string path = context.Request.PathBase + context.Request.Path;
        foreach (string tail in new[] { "/dead-letters/requeue", "/dead-letters/discard", "/status.json" })
        {
            if (path.EndsWith(tail, StringComparison.Ordinal))
            {
                return path[..^tail.Length];
            }
        }

        return path.TrimEnd('/');
    }

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";
}
