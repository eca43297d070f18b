using System.Text.Json.Serialization;

namespace Resilient.Integrations.Sqlite;

[JsonSerializable(typeof(string[][]))]
internal sealed partial class SqliteJson : JsonSerializerContext;
