using System.Text.Json.Serialization;
using Resilient.Integrations.Status;

namespace Resilient.Integrations.AspNetCore.Internal;

/// <summary>The snapshot as JSON for scripts and dashboards: camelCase, enums as their names, generated at build time (trimming-safe).</summary>
[JsonSerializable(typeof(ResilienceStatusReport))]
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web, UseStringEnumConverter = true, WriteIndented = true)]
internal sealed partial class StatusJson : JsonSerializerContext;
