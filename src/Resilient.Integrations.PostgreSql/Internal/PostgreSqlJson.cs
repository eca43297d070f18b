using System.Text.Json.Serialization;

namespace Resilient.Integrations.PostgreSql.Internal;

[JsonSerializable(typeof(string[][]))]
internal sealed partial class PostgreSqlJson : JsonSerializerContext;
