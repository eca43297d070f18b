namespace Resilient.Integrations.Validation;

/// <summary>Options of the <see cref="JsonResponseValidator"/>.</summary>
public sealed class JsonResponseValidatorOptions
{
    /// <summary>Gets or sets the largest body parsed in full. A longer body is checked only up to this many bytes.</summary>
    /// <value>Defaults to 1 MiB (1,048,576). Must be between 1 and 64 MiB.</value>
    public int MaxBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Gets or sets a value indicating whether a top-level, non-null <c>error</c> member in a 2xx body is a failure.</summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool RejectErrorEnvelope { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether an empty body passes.</summary>
    /// <value>Defaults to <see langword="true"/> (writes often answer 200 with no body).</value>
    public bool AllowEmptyBody { get; set; } = true;

    /// <summary>Gets media types that pass without parsing, such as streams validated event by event elsewhere.</summary>
    /// <value>Defaults to <c>text/event-stream</c>, <c>application/x-ndjson</c> and <c>application/jsonl</c>.</value>
    public IList<string> PassThroughMediaTypes { get; } = ["text/event-stream", "application/x-ndjson", "application/jsonl"];

    /// <summary>
    /// Gets properties a body must have, as dotted paths from the root object (<c>"data.items"</c>); a missing
    /// or null one means the response format drifted. Checked only on bodies within <see cref="MaxBodyBytes"/>.
    /// </summary>
    /// <value>Defaults to empty.</value>
    public IList<string> RequiredProperties { get; } = [];
}
