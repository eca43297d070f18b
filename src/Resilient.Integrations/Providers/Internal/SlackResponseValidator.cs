using Resilient.Integrations.Classification;
using Resilient.Integrations.Classification.Internal;
using Resilient.Integrations.Internal;
using Resilient.Integrations.Validation;

namespace Resilient.Integrations.Providers.Internal;

/// <summary>
/// Slack's Web API answers most errors with HTTP 200 and <c>{"ok":false,"error":"…"}</c>: such an answer is classified
/// by its error (an expired token is Auth, not a malformed answer). Everything else goes to the validator the integration had.
/// </summary>
internal sealed class SlackResponseValidator(IResponseValidator? inner) : IResponseValidator
{
    // Slack puts "ok" first; the error code follows within a few hundred bytes.
    private const int HeadBytes = 4096;

    public async ValueTask<ResponseValidationResult> ValidateAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentType?.MediaType is string media && JsonResponseValidator.IsJson(media))
        {
            var head = await ResponseBodyReader.ReadPrefixAsync(response, HeadBytes, cancellationToken).ConfigureAwait(false);
            if (head.Span.IndexOf("false"u8) >= 0)
            {
                string text = head.ToText();
                if (JsonMembers.FirstString(text, "error") is { } error && IsNotOk(text))
                {
                    return ResponseValidationResult.Invalid($"Slack answered ok:false ({error})", error, KindOf(error));
                }
            }
        }

        return inner is null ? ResponseValidationResult.Valid : await inner.ValidateAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The kind a Slack error code names (docs.slack.dev, each method's "Errors" table).</summary>
    public static FailureKind KindOf(string error) => error switch
    {
        "invalid_auth" or "not_authed" or "token_expired" or "token_revoked" or "account_inactive" or "no_permission"
            or "missing_scope" or "not_allowed_token_type" or "ekm_access_denied" or "team_access_not_granted" or "two_factor_setup_required" => FailureKind.Auth,
        "ratelimited" or "rate_limited" => FailureKind.RateLimit,
        "internal_error" or "fatal_error" or "service_unavailable" => FailureKind.Unavailable,
        "request_timeout" => FailureKind.Timeout,
        _ => FailureKind.Rejected, // channel_not_found, invalid_arguments, …: the same request fails again
    };

    private static bool IsNotOk(string json) =>
        System.Text.RegularExpressions.Regex.IsMatch(json, "\"ok\"\\s*:\\s*false", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
}
